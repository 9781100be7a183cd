package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Another user of the machine must not read the platform's data: the broker's log holds inline files in clear. */
class DataDirectoryTest {

    @TempDir
    Path tmp;

    @Test
    void aNewDataDirectoryIsReadableByItsOwnerOnly() throws Exception {
        Path dir = tmp.resolve("new").resolve(".osfria");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataDirectory.prepare(dir, new PrintStream(out, true, StandardCharsets.UTF_8));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    @Test
    void anExistingOpenDataDirectoryIsClosedAndTheTerminalSaysSo() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("open"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // whatever the umask
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataDirectory.prepare(dir, new PrintStream(out, true, StandardCharsets.UTF_8));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("was rwxr-xr-x: now rwx------"), out.toString(StandardCharsets.UTF_8));

        ByteArrayOutputStream again = new ByteArrayOutputStream();
        DataDirectory.prepare(dir, new PrintStream(again, true, StandardCharsets.UTF_8));
        assertEquals("", again.toString(StandardCharsets.UTF_8), "nothing to say the second time");
    }
}
