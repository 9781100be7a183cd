package fr.osfria.local;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The platform's PostgreSQL: a real server from binaries shipped in Maven jars, its data under the data
 * directory, kept across restarts; or, when {@code OSFRIA_POSTGRES} names one, an existing server.
 */
public final class LocalPostgres implements AutoCloseable, Supervisor.Child {

    private static final Duration STARTUP_WAIT = Duration.ofSeconds(30);

    private final LocalSettings settings;
    private final Duration startupWait;
    private EmbeddedPostgres embedded;

    public LocalPostgres(LocalSettings settings) {
        this(settings, STARTUP_WAIT);
    }

    /** With another start-up wait: a test whose restart is meant to fail need not wait 30 s for it. */
    public LocalPostgres(LocalSettings settings, Duration startupWait) {
        this.settings = settings;
        this.startupWait = startupWait;
    }

    public void start() throws IOException {
        if (!settings.embeddedPostgres()) {
            return;
        }
        Path dir = settings.dataDir().resolve("postgres");
        Files.createDirectories(dir);
        java.time.Instant attempt = java.time.Instant.now();
        // the server's own lines go to its log: pg_ctl and the postmaster it starts inherit these outputs
        LogFile log = LogFile.of(settings.dataDir(), "postgresql");
        log.rotateIfFull();
        Files.createDirectories(log.file().getParent());
        ProcessBuilder.Redirect toLog = ProcessBuilder.Redirect.appendTo(log.file().toFile());
        try {
            embedded = EmbeddedPostgres.builder()
                    .setOutputRedirector(toLog)
                    .setErrorRedirector(toLog)
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false)
                    .setPort(settings.postgresPort())
                    // the library's default is tuned for throw-away test databases; a commit here must survive a crash
                    .setServerConfig("synchronous_commit", "on")
                    // after a crash, recovery comes first: on a busy machine it takes longer than the default 10 s
                    .setPGStartupWait(startupWait)
                    // stopped last by the launcher's own hook: the library's hook ran at the same time and stopped the
                    // database under services still finishing their work (webhook attempts could not be recorded)
                    .setRegisterShutdownHook(false)
                    .start();
        } catch (IOException | RuntimeException e) {
            abandon(attempt);
            throw new IOException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
    }

    /**
     * Cleans up after a start that failed. The library keeps its lock file ({@code epg-lock}) locked by the
     * instance it could not return, which its shutdown hook keeps alive: every later start in this JVM failed on
     * that lock, and the database never came back. The file is removed, so that the next start locks a new one.
     * A postmaster the failed attempt left running (started, but not ready in time) is stopped first: the next
     * attempt starts its own. Only what this attempt provably started is touched: a postmaster started since
     * {@code attempt} on this data directory (not another launcher's, nor a process that reused a stale pid), and a
     * lock file this JVM holds (not another launcher's).
     */
    private void abandon(java.time.Instant attempt) {
        Path dir = settings.dataDir().resolve("postgres");
        Path pidFile = dir.resolve("postmaster.pid");
        try {
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            ProcessHandle.of(pid).filter(p -> startedBy(p, attempt, dir)).ifPresent(postmaster -> {
                postmaster.descendants().forEach(ProcessHandle::destroyForcibly);
                postmaster.destroyForcibly();
                postmaster.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
            });
        } catch (IOException | RuntimeException e) {
            // no postmaster left behind
        }
        if (lockedInThisJvm(dir.resolve("epg-lock"))) {
            try {
                Files.deleteIfExists(dir.resolve("epg-lock"));
            } catch (IOException e) {
                // the next start says why it cannot lock
            }
        }
    }

    private static boolean startedBy(ProcessHandle process, java.time.Instant attempt, Path dir) {
        boolean recent = process.info().startInstant().map(t -> !t.isBefore(attempt.minusSeconds(1))).orElse(false);
        return recent && process.info().commandLine().map(c -> c.contains(dir.toString())).orElse(false);
    }

    /** Whether the lock file is locked by this JVM (the library's abandoned instance), not by another process. */
    private static boolean lockedInThisJvm(Path lock) {
        if (!Files.exists(lock)) {
            return false;
        }
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(lock, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.channels.FileLock free = channel.tryLock();
            if (free != null) {
                free.release();
            }
            return false;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether the platform runs its own PostgreSQL (and so can watch and restart it). */
    public boolean embedded() {
        return embedded != null;
    }

    /** The postmaster of the embedded server (pg_ctl starts it detached: its pid is in postmaster.pid). */
    @Override
    public ProcessHandle handle() {
        Path pidFile = settings.dataDir().resolve("postgres").resolve("postmaster.pid");
        try {
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            return ProcessHandle.of(pid).orElseThrow(() -> new IOException("no process " + pid));
        } catch (IOException | RuntimeException e) {
            throw new LocalPlatformException("cannot find PostgreSQL's postmaster from " + pidFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * Starts the embedded server again on the same data directory, after its postmaster died: releases the old
     * instance's lock on the directory first (its stop command fails harmlessly, nothing is running).
     */
    public synchronized LocalPostgres restart() {
        try {
            embedded.close();
            start();
        } catch (IOException e) {
            throw new LocalPlatformException("PostgreSQL did not start again: " + e.getMessage(), e);
        }
        return this;
    }

    /** Creates each service's database unless it exists. */
    public void ensureDatabase(String name) {
        String url = "jdbc:postgresql://" + settings.postgresHost() + ":" + settings.postgresPort() + "/postgres";
        try (Connection c = DriverManager.getConnection(url, settings.postgresUser(), settings.postgresPassword());
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new LocalPlatformException("cannot create database '" + name + "' on " + settings.postgresHost() + ":"
                    + settings.postgresPort() + ": " + e.getMessage(), e);
        }
    }

    String reactiveUrl(String database) {
        return "postgresql://" + settings.postgresHost() + ":" + settings.postgresPort() + "/" + database;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + settings.postgresHost() + ":" + settings.postgresPort() + "/" + database;
    }

    @Override
    public synchronized void close() throws IOException {
        if (embedded != null) {
            embedded.close();
        }
    }
}
