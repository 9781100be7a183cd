package fr.osfria.local;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/**
 * {@code <data>/osfria.run}: which launcher runs on this data directory and on which ports, written when
 * {@code up} starts and removed when it stops, so that {@code status}, {@code logs} and {@code down} find it and a
 * second {@code up} can say that one already runs. A file left by a launcher that was killed names a process that
 * no longer exists (or is no launcher): it is ignored.
 */
public record RunFile(long pid, int entryPort, int kafkaPort, int postgresPort, boolean embeddedPostgres, String url,
                      Instant started) {

    static Path path(Path dataDir) {
        return dataDir.resolve("osfria.run");
    }

    static RunFile of(LocalSettings settings, String url) {
        return new RunFile(ProcessHandle.current().pid(), settings.entryPort(), settings.kafkaPort(),
                settings.postgresPort(), settings.embeddedPostgres(), url, Instant.now());
    }

    void write(Path dataDir) throws IOException {
        Properties p = new Properties();
        p.setProperty("pid", String.valueOf(pid));
        p.setProperty("entry-port", String.valueOf(entryPort));
        p.setProperty("kafka-port", String.valueOf(kafkaPort));
        p.setProperty("postgres-port", String.valueOf(postgresPort));
        p.setProperty("embedded-postgres", String.valueOf(embeddedPostgres));
        p.setProperty("url", url);
        p.setProperty("started", started.toString());
        Path tmp = dataDir.resolve("osfria.run.tmp");
        try (Writer w = Files.newBufferedWriter(tmp)) {
            p.store(w, "the running ./osfria up; removed when it stops");
        }
        Files.move(tmp, path(dataDir), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes the file if it still names this process (a newer launcher's file is left alone). */
    static void removeIfMine(Path dataDir) {
        read(dataDir).filter(r -> r.pid == ProcessHandle.current().pid()).ifPresent(r -> {
            try {
                Files.deleteIfExists(path(dataDir));
            } catch (IOException e) {
                // a stale file is ignored by the next reader
            }
        });
    }

    /** Removes the file whoever it names: {@code down}, once that launcher is gone. */
    static void remove(Path dataDir) {
        try {
            Files.deleteIfExists(path(dataDir));
        } catch (IOException e) {
            // a stale file is ignored by the next reader
        }
    }

    static Optional<RunFile> read(Path dataDir) {
        Path file = path(dataDir);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
            return Optional.of(new RunFile(Long.parseLong(p.getProperty("pid")),
                    Integer.parseInt(p.getProperty("entry-port")), Integer.parseInt(p.getProperty("kafka-port")),
                    Integer.parseInt(p.getProperty("postgres-port")), Boolean.parseBoolean(p.getProperty("embedded-postgres")),
                    p.getProperty("url", ""), Instant.parse(p.getProperty("started"))));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The launcher this file names, if it still runs (a live process that is this launcher, not a reused pid). */
    static Optional<ProcessHandle> running(Path dataDir) {
        return read(dataDir).flatMap(r -> r.launcher());
    }

    Optional<ProcessHandle> launcher() {
        // this process is never the one the file names (after a crash, a container's launcher is pid 1 again), and a
        // process started after the file was written has reused the pid of a launcher that died
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> p.info().startInstant().map(s -> !s.isAfter(started.plusSeconds(1))).orElse(true))
                .filter(p -> p.info().commandLine().map(c -> c.contains("platform-local")).orElse(false));
    }
}
