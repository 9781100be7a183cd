package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.key.KeyFile;
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
     * {@code --kafka} with another key file (a Kubernetes overlay's, k8s/README.md) makes the application's key there
     * and nothing on the local platform: no key in its file, no broker credentials printed, and says where they come
     * from instead. (It once wrote the key there, then crashed looking for it in the platform's file.)
     */
    @Test
    void aKafkaKeyForAnotherFileIsTheKeyOnly(@TempDir Path home) throws Exception {
        Path other = home.resolve("other-keys.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = new KeysCommand(LocalSettings.from(Map.of(), home), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(List.of("--file", other.toString(), "create", "billing", "--kafka"));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertTrue(printed.startsWith("sk-"), "the key is printed first: " + printed);
        assertTrue(printed.contains("KafkaUser"), printed);
        assertFalse(printed.contains("sasl.jaas.config"), "broker credentials printed for a broker that has none");
        var key = KeyFile.readOrEmpty(other).stream().filter(k -> k.name().equals("billing")).findFirst().orElseThrow();
        assertTrue(key.kafkaApplication(), "the services would not take its records");
        assertFalse(Files.exists(home.resolve(".osfria/keys.json")), "a key was written to the platform's file");
    }
}
