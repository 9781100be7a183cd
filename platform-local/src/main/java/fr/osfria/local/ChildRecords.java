package fr.osfria.local;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code <data>/pids/<part>.pid}: each process the launcher starts (PostgreSQL's postmaster, Kafka, each service),
 * recorded as it starts and again at each restart: its pid, start time and command line. A launcher killed by
 * SIGKILL cannot stop its children; from these records {@code status} still sees them and {@code down} still stops
 * them. A record names its process only while a live process has that pid <em>and</em> the same start time and
 * command line: a pid the system has given to another process since is never taken for ours, nor killed.
 */
final class ChildRecords {

    /** The order to stop parts in: the services, then Kafka, then PostgreSQL (whose clients are gone by then). */
    static final List<String> STOP_ORDER;

    static {
        List<String> order = new ArrayList<>(LocalSettings.SERVICES.stream().map(LocalSettings.Service::name).toList());
        order.addAll(List.of("kafka", "postgresql"));
        STOP_ORDER = List.copyOf(order);
    }

    private ChildRecords() {
    }

    static Path dir(Path dataDir) {
        return dataDir.resolve("pids");
    }

    /** Records a part's process (replacing the record of its previous incarnation). */
    static void record(Path dataDir, String part, ProcessHandle process) {
        Properties p = new Properties();
        p.setProperty("pid", String.valueOf(process.pid()));
        process.info().startInstant().ifPresent(s -> p.setProperty("start", s.toString()));
        process.info().commandLine().ifPresent(c -> p.setProperty("command", c));
        try {
            Files.createDirectories(dir(dataDir));
            Path tmp = dir(dataDir).resolve(part + ".pid.tmp");
            try (Writer w = Files.newBufferedWriter(tmp)) {
                p.store(w, part + " as ./osfria up started it");
            }
            Files.move(tmp, dir(dataDir).resolve(part + ".pid"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // the platform runs on; only a down after a killed launcher would miss this process
            System.err.println("osfria: cannot record " + part + "'s pid in " + dir(dataDir) + ": " + e.getMessage());
        }
    }

    /** The recorded processes that still run, each checked to be the very process recorded, in {@link #STOP_ORDER}. */
    static Map<String, ProcessHandle> running(Path dataDir) {
        Map<String, ProcessHandle> running = new LinkedHashMap<>();
        for (String part : STOP_ORDER) {
            find(dataDir, part).ifPresent(p -> running.put(part, p));
        }
        return running;
    }

    /** The part's recorded process, if it is still the one recorded. */
    static Optional<ProcessHandle> find(Path dataDir, String part) {
        Path file = dir(dataDir).resolve(part + ".pid");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
            long pid = Long.parseLong(p.getProperty("pid", "").trim());
            String start = p.getProperty("start");
            String command = p.getProperty("command");
            if (start == null || command == null) {
                return Optional.empty(); // nothing to tell it from another process by: never touched
            }
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> sameProcess(h, Instant.parse(start), command));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean sameProcess(ProcessHandle process, Instant start, String command) {
        return process.info().startInstant().map(start::equals).orElse(false)
                && process.info().commandLine().map(command::equals).orElse(false);
    }

    /**
     * Stops the recorded processes that still run, in {@link #STOP_ORDER}: each is asked (SIGTERM), then killed after
     * {@code graceSeconds}. The names of those stopped.
     */
    static List<String> stopAll(Path dataDir, int graceSeconds) {
        Map<String, ProcessHandle> running = running(dataDir);
        Map<String, ProcessHandle> services = new LinkedHashMap<>(running);
        services.keySet().removeAll(List.of("kafka", "postgresql"));
        stop(services.values().stream(), graceSeconds); // the services at once: none depends on another
        for (String part : List.of("kafka", "postgresql")) {
            if (running.containsKey(part)) {
                stop(Stream.of(running.get(part)), graceSeconds);
            }
        }
        clear(dataDir);
        return List.copyOf(running.keySet());
    }

    private static void stop(Stream<ProcessHandle> processes, int graceSeconds) {
        List<ProcessHandle> all = processes.toList();
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
        for (ProcessHandle p : all) {
            try {
                p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
                p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
            }
        }
    }

    /** Forgets every record (the platform stopped). */
    static void clear(Path dataDir) {
        try (Stream<Path> files = Files.list(dir(dataDir))) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            // no records, or a stale one: it names a process that is gone, and is ignored
        }
    }
}
