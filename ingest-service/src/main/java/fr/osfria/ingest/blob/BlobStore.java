package fr.osfria.ingest.blob;

import fr.osfria.ingest.IngestConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Original files under one directory: {@code <document id>/v<version>}. Keys are built here from validated ids,
 * never from user file names. Blocking.
 */
@ApplicationScoped
public class BlobStore {

    private final Path root;

    public BlobStore(IngestConfig config) {
        this.root = config.blobDir().toAbsolutePath().normalize();
    }

    /** Copies {@code source} in and returns its key. */
    public String put(String documentId, int version, Path source) throws IOException {
        String key = documentId + "/v" + version;
        Path target = resolve(key);
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), ".upload", ".tmp");
        try {
            Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return key;
    }

    /** Writes {@code content} (already encrypted where it must be) and returns its key. */
    public String put(String documentId, int version, byte[] content) throws IOException {
        String key = documentId + "/v" + version;
        Path target = resolve(key);
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), ".upload", ".tmp");
        try {
            Files.write(tmp, content);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return key;
    }

    public byte[] read(String key) throws IOException {
        return Files.readAllBytes(resolve(key));
    }

    public Path path(String key) {
        return resolve(key);
    }

    /** Removes every version of a document; missing files are fine (a retry after a partial delete). */
    public void deleteDocument(String documentId) {
        Path dir = resolve(documentId);
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void delete(String key) throws IOException {
        Files.deleteIfExists(resolve(key));
    }

    private Path resolve(String key) {
        Path path = root.resolve(key).normalize();
        if (!path.startsWith(root) || !key.matches("[a-z0-9_]+(/v[0-9]+)?")) {
            throw new IllegalArgumentException("not a blob key: " + key);
        }
        return path;
    }
}
