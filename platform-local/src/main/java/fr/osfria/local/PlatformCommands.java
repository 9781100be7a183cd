package fr.osfria.local;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** {@code osfria status}, {@code osfria logs [NAME] [-f]} and {@code osfria down}, for the platform on this data directory. */
final class PlatformCommands {

    /** Exit code of {@code status} when nothing runs (as the LSB's "program is not running"). */
    static final int NOT_RUNNING = 3;

    private final LocalSettings settings;
    private final PrintStream out;

    PlatformCommands(LocalSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    /** Each part: up or down, port, pid, uptime, data size. */
    int status() {
        Optional<RunFile> run = RunFile.read(settings.dataDir());
        Optional<ProcessHandle> launcher = run.flatMap(RunFile::launcher);
        Map<String, ProcessHandle> parts = ChildRecords.running(settings.dataDir());
        if (launcher.isEmpty() && parts.isEmpty()) {
            out.println("Osfria is not running (data in " + settings.dataDir() + "). Start it with ./osfria up");
            return NOT_RUNNING;
        }
        if (launcher.isPresent()) {
            RunFile r = run.get();
            out.println("Osfria is up at " + r.url() + " (launcher pid " + r.pid() + ", up " + since(r.started()) + ")");
        } else {
            // a launcher killed by SIGKILL leaves its children running: say so rather than "not running"
            out.println("Osfria's launcher is not running (was it killed?), but " + parts.size() + " of its processes still"
                    + " run: ./osfria down stops them.");
        }
        int entryPort = run.map(RunFile::entryPort).orElse(settings.entryPort());
        out.printf("%-18s %-9s %-6s %-8s %-12s %s%n", "part", "state", "port", "pid", "uptime", "data");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        if (run.map(RunFile::embeddedPostgres).orElse(settings.embeddedPostgres())) {
            row("postgresql", Optional.ofNullable(parts.get("postgresql")), run.map(RunFile::postgresPort)
                    .orElse(settings.postgresPort()), "postgres", null);
        }
        row("kafka", Optional.ofNullable(parts.get("kafka")), run.map(RunFile::kafkaPort).orElse(settings.kafkaPort()),
                "kafka", null);
        for (LocalSettings.Service s : LocalSettings.SERVICES) {
            int port = entryPort + s.portOffset();
            row(s.name(), Optional.ofNullable(parts.get(s.name())), port, s.name(), () -> ready(http, port));
        }
        row("entry port", launcher, entryPort, null, null);
        out.println("Logs: ./osfria logs NAME [-f] (" + LogFile.path(settings.dataDir(), "x").getParent() + ")");
        return launcher.isPresent() ? 0 : 1;
    }

    /** "kafka (pid 12), ingest-service (pid 34)": the parts named with their pids. */
    static String describe(Map<String, ProcessHandle> parts) {
        return parts.entrySet().stream().map(e -> e.getKey() + " (pid " + e.getValue().pid() + ")")
                .collect(java.util.stream.Collectors.joining(", "));
    }

    private void row(String name, Optional<ProcessHandle> process, int port, String dataDir,
                     java.util.function.BooleanSupplier ready) {
        String state = process.isEmpty() ? "down" : ready == null || ready.getAsBoolean() ? "up" : "starting";
        out.printf("%-18s %-9s %-6d %-8s %-12s %s%n", name, state, port,
                process.map(p -> String.valueOf(p.pid())).orElse("-"),
                process.flatMap(p -> p.info().startInstant()).map(PlatformCommands::since).orElse("-"),
                dataDir == null ? "-" : size(settings.dataDir().resolve(dataDir)));
    }

    private static boolean ready(HttpClient http, int port) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static String since(Instant start) {
        long s = Math.max(0, Duration.between(start, Instant.now()).toSeconds());
        return s < 60 ? s + " s" : s < 3600 ? s / 60 + " min " + s % 60 + " s" : s / 3600 + " h " + s % 3600 / 60 + " min";
    }

    static String size(Path dir) {
        if (!Files.isDirectory(dir)) {
            return "-";
        }
        long bytes;
        try (Stream<Path> files = Files.walk(dir)) {
            // Kafka's index files are preallocated sparse (10 MiB each, mostly holes): counted, they made a fresh
            // broker look like gigabytes
            bytes = files.filter(Files::isRegularFile).filter(f -> !f.toString().endsWith("index")).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0; // removed meanwhile
                }
            }).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return "?";
        }
        return bytes < 1024 * 1024 ? (bytes + 1023) / 1024 + " KB" : String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    /** No name: the logs there are. A name: that log; {@code -f}: then follows it, across rotations, until Ctrl-C. */
    int logs(List<String> args) {
        boolean follow = args.contains("-f") || args.contains("--follow");
        List<String> names = args.stream().filter(a -> !a.equals("-f") && !a.equals("--follow")).toList();
        if (names.size() > 1 || names.stream().anyMatch(a -> a.startsWith("-"))) {
            System.err.println("usage: osfria logs [NAME] [-f]   NAME: " + String.join(", ", LogFile.NAMES));
            return 2;
        }
        if (names.isEmpty()) {
            out.println("Logs in " + LogFile.path(settings.dataDir(), "x").getParent() + " (./osfria logs NAME [-f]):");
            for (String name : LogFile.NAMES) {
                Path file = LogFile.path(settings.dataDir(), name);
                if (Files.exists(file)) {
                    out.printf("  %-18s %s%n", name, fileSize(file));
                }
            }
            return 0;
        }
        String name = names.get(0);
        if (!LogFile.NAMES.contains(name)) { // a fixed list: a NAME never reaches the file system
            System.err.println("osfria: no part is called '" + name.replaceAll("[^\\x20-\\x7e]", "?") + "'; the logs are: "
                    + String.join(", ", LogFile.NAMES));
            return 2;
        }
        Path file = LogFile.path(settings.dataDir(), name);
        if (!Files.exists(file) && !follow) {
            System.err.println("osfria: no log yet for " + name + " (" + file + ")");
            return 1;
        }
        try {
            long position = copy(file, 0);
            while (follow) {
                Thread.sleep(300);
                long size = Files.exists(file) ? Files.size(file) : 0;
                position = copy(file, size < position ? 0 : position); // smaller: rotated, start the new file
            }
        } catch (IOException e) {
            System.err.println("osfria: cannot read " + file + ": " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static String fileSize(Path file) {
        try {
            long b = Files.size(file);
            return b < 1024 * 1024 ? (b + 1023) / 1024 + " KB" : String.format(java.util.Locale.ROOT, "%.1f MB", b / 1048576.0);
        } catch (IOException e) {
            return "?";
        }
    }

    /** Writes the file from {@code position} to its end; the new position. */
    private long copy(Path file, long position) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(position);
            byte[] buffer = new byte[64 * 1024];
            int n;
            long at = position;
            while ((n = f.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                at += n;
            }
            out.flush();
            return at;
        }
    }

    /**
     * Stops the platform started on this data directory (as Ctrl-C does) and waits until its ports are free. A
     * launcher that was killed left its processes running: they are stopped from their records ({@link ChildRecords}).
     */
    int down() {
        Optional<RunFile> run = RunFile.read(settings.dataDir());
        Optional<ProcessHandle> launcher = run.flatMap(RunFile::launcher);
        Map<String, ProcessHandle> left = ChildRecords.running(settings.dataDir());
        if (launcher.isEmpty() && left.isEmpty()) {
            out.println("Osfria is not running (data in " + settings.dataDir() + ").");
            return 0;
        }
        long start = System.nanoTime();
        if (launcher.isPresent()) {
            out.println("Stopping Osfria (launcher pid " + launcher.get().pid() + ")…");
            List<ProcessHandle> children = launcher.get().descendants().toList();
            launcher.get().destroy(); // SIGTERM: the launcher stops its parts in order, as on Ctrl-C
            try {
                launcher.get().onExit().get(120, TimeUnit.SECONDS);
            } catch (Exception e) {
                out.println("The launcher did not stop within 120 s; stopping its processes by force.");
                launcher.get().destroyForcibly();
            }
            children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        } else {
            out.println("The launcher is gone (killed?); stopping what it left running: " + describe(left) + "…");
        }
        ChildRecords.stopAll(settings.dataDir(), 20); // what a launcher that died or was forced left behind
        RunFile.remove(settings.dataDir());
        List<Integer> ports = new java.util.ArrayList<>(List.of(run.map(RunFile::entryPort).orElse(settings.entryPort()),
                run.map(RunFile::kafkaPort).orElse(settings.kafkaPort())));
        int entryPort = ports.get(0);
        LocalSettings.SERVICES.forEach(s -> ports.add(entryPort + s.portOffset()));
        if (run.map(RunFile::embeddedPostgres).orElse(settings.embeddedPostgres())) {
            ports.add(run.map(RunFile::postgresPort).orElse(settings.postgresPort()));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        List<Integer> busy = busy(ports);
        while (!busy.isEmpty() && System.nanoTime() < deadline) {
            sleep();
            busy = busy(ports);
        }
        if (!busy.isEmpty()) {
            out.println("Stopped, but ports still in use: " + busy);
            return 1;
        }
        out.printf(java.util.Locale.ROOT, "Osfria stopped in %.1f s; its ports are free.%n", (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static List<Integer> busy(List<Integer> ports) {
        return ports.stream().filter(port -> {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress("0.0.0.0", port));
                return false;
            } catch (IOException e) {
                return true;
            }
        }).toList();
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
