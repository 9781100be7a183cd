package fr.osfria.local.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of the packaged launcher ({@code java -jar platform-local.jar up}, exactly what {@code ./osfria up} runs),
 * its terminal collected, with the means to kill its children as a crash would.
 */
public final class LaunchedPlatform implements AutoCloseable {

    private static final Pattern UP = Pattern.compile("Osfria is up at (http://\\S+)");
    private static final Pattern KEY = Pattern.compile("Admin API key.*?(sk-osfria-[A-Za-z0-9_-]+)");

    private final Process process;
    private final Path data;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private LaunchedPlatform(Process process, Path data) {
        this.process = process;
        this.data = data;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the launcher ended
            }
        }, "osfria-terminal");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts the launcher with these variables (on top of the test's own environment, as a shell would). */
    public static LaunchedPlatform start(Path data, Map<String, String> env) throws IOException {
        Path home = Path.of("").toAbsolutePath().getParent();
        ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-Dosfria.home=" + home, "-jar", home.resolve("platform-local/target/platform-local.jar").toString(), "up")
                .redirectErrorStream(true);
        builder.environment().putAll(env);
        builder.environment().put("OSFRIA_DATA", data.toString());
        return new LaunchedPlatform(builder.start(), data);
    }

    /** Waits for the banner; returns the entry URL. */
    public String awaitUp(long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            String url = find(UP);
            if (url != null) {
                return url.replace("localhost", "127.0.0.1");
            }
            if (!process.isAlive()) {
                throw new AssertionError("the platform exited (" + process.exitValue() + "):\n" + tail(60));
            }
            Thread.sleep(250);
        }
        close();
        throw new AssertionError("the platform was not up within " + seconds + " s:\n" + tail(60));
    }

    public String adminKey() {
        return find(KEY);
    }

    public String find(Pattern pattern) {
        for (String line : lines) {
            Matcher m = pattern.matcher(line);
            if (m.find()) {
                return m.group(1);
            }
        }
        return null;
    }

    public List<String> lines() {
        return lines;
    }

    /** The launcher's child JVM whose command line contains {@code marker} (a service's quarkus-app, kafka.Kafka). */
    public ProcessHandle child(String marker) {
        return process.children().filter(p -> p.info().commandLine().orElse("").contains(marker)).findFirst()
                .orElseThrow(() -> new AssertionError("no child process " + marker + ":\n" + tail(30)));
    }

    public ProcessHandle service(String name) {
        return child(name + "/target/quarkus-app");
    }

    /** PostgreSQL's postmaster, if one runs (pg_ctl starts it detached: its pid is in postmaster.pid). */
    public Optional<ProcessHandle> postmaster() {
        try {
            Path pidFile = data.resolve("postgres/postmaster.pid");
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            return ProcessHandle.of(Long.parseLong(Files.readAllLines(pidFile).get(0).trim())).filter(ProcessHandle::isAlive);
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // being written or removed
        }
    }

    public static void sigkill(ProcessHandle process) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-KILL", String.valueOf(process.pid())).start().waitFor();
    }

    public String tail(int count) {
        return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
    }

    /** Every process the launcher started and that still runs. */
    public List<ProcessHandle> descendants() {
        return process.descendants().toList();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Sends SIGINT, as Ctrl-C does; whether the launcher exited within {@code seconds}. */
    public boolean interrupt(int seconds) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
        return process.waitFor(seconds, TimeUnit.SECONDS);
    }

    /** Ctrl-C, as a user stops it; forced if it does not stop in time. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        List<ProcessHandle> children = process.descendants().toList();
        try {
            new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
            if (!process.waitFor(90, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            process.destroyForcibly();
        }
        children.forEach(ProcessHandle::destroyForcibly);
    }

}
