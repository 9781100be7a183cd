package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One holder of a data directory's lock at a time; the refusal names it. (Two processes: {@code chaos/LauncherKilledChaosTest}.) */
class RunLockTest {

    @TempDir
    Path data;

    @Test
    void aSecondHolderIsRefusedUntilTheFirstLetsGo() throws Exception {
        RunLock first = RunLock.acquire(data);
        assertEquals(String.valueOf(ProcessHandle.current().pid()), Files.readString(data.resolve("lock")).trim());
        LocalPlatformException refused = assertThrows(LocalPlatformException.class, () -> RunLock.acquire(data));
        assertTrue(refused.getMessage().contains("already runs on " + data + " (launcher pid " + ProcessHandle.current().pid()),
                refused.getMessage());
        first.close();
        RunLock.acquire(data).close();
    }
}
