package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A part's record names its process only while that very process runs: {@code down} after a killed launcher stops
 * it, and never a process that got its pid since (another start time or another command line).
 */
class ChildRecordsTest {

    @TempDir
    Path data;

    @Test
    void aRecordedProcessIsFoundAndStopped() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            ChildRecords.record(data, "kafka", sleeper.toHandle());
            assertEquals(List.of("kafka"), List.copyOf(ChildRecords.running(data).keySet()));
            assertEquals(List.of("kafka"), ChildRecords.stopAll(data, 5));
            assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS), "the recorded process still runs");
            assertFalse(Files.exists(data.resolve("pids/kafka.pid")), "the record is kept after the stop");
            assertTrue(ChildRecords.running(data).isEmpty());
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void aProcessThatReusedARecordedPidIsNeverStopped() throws Exception {
        Process other = new ProcessBuilder("sleep", "60").start();
        try {
            ChildRecords.record(data, "ingest-service", other.toHandle());
            Path file = data.resolve("pids/ingest-service.pid");
            Instant start = other.toHandle().info().startInstant().orElseThrow();
            // the same pid, started at another time: the recorded process died and the system gave its pid away
            edit(file, "start", start.minusSeconds(5).toString());
            assertTrue(ChildRecords.running(data).isEmpty(), "another start time taken for the recorded process");
            ChildRecords.stopAll(data, 1);
            assertTrue(other.isAlive(), "a process with a reused pid was stopped");
            // the same pid and start time, another program
            ChildRecords.record(data, "ingest-service", other.toHandle());
            edit(file, "command", "sleep 61");
            assertTrue(ChildRecords.running(data).isEmpty(), "another command line taken for the recorded process");
            ChildRecords.stopAll(data, 1);
            assertTrue(other.isAlive(), "a process with another command line was stopped");
            // a record of no process at all
            ChildRecords.record(data, "ingest-service", other.toHandle());
            edit(file, "pid", "999999999");
            assertTrue(ChildRecords.running(data).isEmpty());
        } finally {
            other.destroyForcibly();
        }
    }

    private static void edit(Path file, String name, String value) throws Exception {
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        p.setProperty(name, value);
        try (var w = Files.newBufferedWriter(file)) {
            p.store(w, null);
        }
    }
}
