package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run file left by a launcher that died must not make a live process pass for it. */
class RunFileTest {

    @TempDir
    Path dir;

    @Test
    void aRunFileNamingThisVeryProcessIsStale() throws Exception {
        // a launcher killed as pid 1 of a container, restarted as pid 1 again: it must not find "itself" running
        runFile(ProcessHandle.current().pid(), Instant.now().minusSeconds(3600)).write(dir);
        assertTrue(RunFile.running(dir).isEmpty(), "this process is never the launcher the file names");
    }

    @Test
    void aPidReusedByALaterProcessIsNotTheLauncher() throws Exception {
        Instant written = Instant.now().minusSeconds(600);
        Process later = new ProcessBuilder("bash", "-c", "sleep 60; true", "platform-local").start();
        try {
            runFile(later.pid(), written).write(dir);
            assertTrue(RunFile.running(dir).isEmpty(), "a process started after the file was written reused the pid");
            // the same process, named by a file written after it started, is the launcher
            runFile(later.pid(), Instant.now().plusSeconds(1)).write(dir);
            assertEquals(later.pid(), RunFile.running(dir).orElseThrow().pid());
        } finally {
            later.destroyForcibly();
        }
    }

    @Test
    void logsAreReadableByTheirOwnerOnly() throws Exception {
        Path file = dir.resolve("logs/ingest-service.log");
        new LogFile(file, 1000).line("document doc_1 of alice uploaded");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    }

    private static RunFile runFile(long pid, Instant started) {
        return new RunFile(pid, 8080, 9092, 5432, true, "http://localhost:8080", started);
    }
}
