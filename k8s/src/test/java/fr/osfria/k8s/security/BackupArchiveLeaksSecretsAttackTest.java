package fr.osfria.k8s.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.k8s.Rendered;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Someone gets hold of a backup archive (a copied backup disk, a lost USB drive, a too-wide share). The backup holds
 * the ConfigMaps and Secrets of every namespace, as the documentation's backup does: none of their values may be
 * readable in the archive, in clear or in the base64 the API gives Secrets in, anywhere in its bytes (nested archives
 * included). And a backup asked for without a passphrase must not fall back to writing them in clear.
 */
class BackupArchiveLeaksSecretsAttackTest {

    private static final Path OPS = Rendered.K8S.resolve("ops");
    private static final String SECRET = "kube-system-key-Zt81-must-stay-sealed";

    private Path work;
    private Path backups;
    private final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void site() throws Exception {
        work = Files.createTempDirectory("osfria-backup-attack");
        Path bin = Files.createDirectories(work.resolve("bin"));
        for (String tool : List.of("kubectl", "k3s")) {
            Path copy = bin.resolve(tool);
            Files.copy(Rendered.K8S.resolve("src/test/resources/fake-cluster").resolve(tool), copy);
            copy.toFile().setExecutable(true);
        }
        Files.writeString(Files.createDirectories(work.resolve("data/blobs/ab")).resolve("cd1234"), "original file bytes");
        Files.writeString(Files.createDirectories(work.resolve("qdrant")).resolve("osfria-chunks.snapshot"), "snapshot");
        Files.createDirectories(work.resolve("models"));
        backups = work.resolve("backups");
        env.put("PATH", bin + ":" + System.getenv("PATH"));
        env.put("FAKE_LOG", work.resolve("calls.log").toString());
        env.put("FAKE_DATA", work.resolve("data").toString());
        env.put("FAKE_QDRANT", work.resolve("qdrant").toString());
        env.put("FAKE_MODELS", work.resolve("models").toString());
        env.put("FAKE_SECRET", SECRET);
        env.put("OSFRIA_NAMESPACE", "osfria-ai");
        env.put("OSFRIA_BACKUP_PASSPHRASE_FILE", Files.writeString(work.resolve("passphrase"), "a long passphrase\n").toString());
    }

    @Test
    void theArchiveHoldsNoSecretValueInClearNorInBase64() throws Exception {
        int exit = backup();
        assertEquals(0, exit, "the backup failed");
        byte[] everything = unpacked(onlyArchive());
        String base64 = Base64.getEncoder().encodeToString(SECRET.getBytes(StandardCharsets.UTF_8));
        assertFalse(contains(everything, SECRET), "a Secret's value is in clear in the archive");
        assertFalse(contains(everything, base64), "a Secret's value is in the archive in base64");
        assertFalse(contains(everything, "kind: Secret"), "Secret objects are readable in the archive");
    }

    @Test
    void withoutAPassphraseThereIsNoBackupRatherThanOneInClear() throws Exception {
        env.put("OSFRIA_BACKUP_PASSPHRASE_FILE", work.resolve("no-such-file").toString());
        assertNotEquals(0, backup(), "a backup was made without a passphrase");
        if (Files.isDirectory(backups)) {
            try (Stream<Path> left = Files.list(backups)) {
                assertEquals(List.of(), left.toList(), "a backup without a passphrase left files");
            }
        }
    }

    private int backup() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(OPS.resolve("backup").toString(), "--dir", backups.toString())
                .directory(work.toFile()).redirectErrorStream(true).redirectOutput(work.resolve("backup.out").toFile());
        pb.environment().remove("PGPORT"); // the stand-in answers pg_dump with a stub dump
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the backup did not finish");
        return p.exitValue();
    }

    private Path onlyArchive() throws Exception {
        try (Stream<Path> files = Files.list(backups)) {
            List<Path> archives = files.filter(f -> f.getFileName().toString().endsWith(".tar.gz")).toList();
            assertEquals(1, archives.size(), "archives: " + archives);
            return archives.get(0);
        }
    }

    /** The archive's uncompressed bytes: file contents, nested tar archives included as they are stored. */
    private static byte[] unpacked(Path archive) throws Exception {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(archive))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        }
    }

    private static boolean contains(byte[] haystack, String needle) {
        return new String(haystack, StandardCharsets.ISO_8859_1).contains(needle);
    }
}
