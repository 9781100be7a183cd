package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysCommandTest {

    /**
     * {@code --kafka} with another key file wrote the key there, then found no new key in the platform's file and
     * crashed without showing it: refused before anything is written.
     */
    @Test
    void kafkaKeysAreTheirOwnFileOnly(@TempDir Path home) {
        Path other = home.resolve("other-keys.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = new KeysCommand(LocalSettings.from(Map.of(), home), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(List.of("--file", other.toString(), "create", "billing", "--kafka"));
        assertEquals(2, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("leave out --file"), err.toString(StandardCharsets.UTF_8));
        assertFalse(Files.exists(other), "a key was written to the other file");
        assertFalse(Files.exists(home.resolve(".osfria/keys.json")), "a key was written to the platform's file");
    }
}
