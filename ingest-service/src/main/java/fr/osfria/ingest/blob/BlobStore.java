package fr.osfria.ingest.blob;

import fr.osfria.ingest.IngestConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Original files under one directory: {@code <document id>/v<version>-<random>} ({@code <document id>/v<version>}
 * for files stored before). Keys are built here from validated ids, never from user file names. Blocking.
 *
 * <p>Each write has a file of its own ({@link #newKey}): two concurrent new versions of one document used to write the
 * same {@code v<n+1>}, one replacing the other's file, so the row could keep a data key whose file was gone (a
 * confidential document that no longer opened). The version in the name is the one the upload was made for; the row
 * says which version the file became.
 *
 * <p>A file is written before the row that references it is committed, so a crash (or a failure) between the two
 * leaves a file nobody can see or delete. Uploads mark their key {@link #pending} until their row is committed or
 * abandoned; {@link #stale} lists what the sweep ({@code OrphanFileSweeper}) may then check against the rows.
 */
@ApplicationScoped
public class BlobStore {

    private static final String TEMP_PREFIX = ".upload";
    private static final String TEMP_SUFFIX = ".tmp";
    /** A stored file's name: its version, and (since each write has its own file) a random suffix. */
    private static final String FILE_NAME = "v[0-9]+(-[0-9a-f]{16})?";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;
    /** Keys written or being written for a row not committed yet: never swept. */
    private final Set<String> pending = ConcurrentHashMap.newKeySet();

    /**
     * What was last written before the sweep's horizon: stored keys (to check against the rows), temporary files of
     * interrupted writes, and document directories left empty.
     */
    public record Stale(List<String> keys, List<Path> leftovers, List<String> emptyDirectories) {
    }

    public BlobStore(IngestConfig config) {
        this.root = config.blobDir().toAbsolutePath().normalize();
    }

    /** Bytes the volume the files are kept on still has for the service (before its directory exists: its parent's). */
    public long usableBytes() throws IOException {
        Path existing = root;
        while (existing.getParent() != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        return Files.getFileStore(existing).getUsableSpace();
    }

    /** Copies {@code source} in as {@code key} and returns the key. */
    public String put(String key, Path source) throws IOException {
        Path target = resolve(key);
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), TEMP_PREFIX, TEMP_SUFFIX);
        try {
            Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return key;
    }

    /** Writes {@code content} (already encrypted where it must be) as {@code key} and returns the key. */
    public String put(String key, byte[] content) throws IOException {
        Path target = resolve(key);
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), TEMP_PREFIX, TEMP_SUFFIX);
        try {
            Files.write(tmp, content);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return key;
    }

    /** A file of its own for one write of {@code version}: no other write, concurrent or not, has this key. */
    public static String newKey(String documentId, int version) {
        byte[] suffix = new byte[8];
        RANDOM.nextBytes(suffix);
        return key(documentId, version) + "-" + HexFormat.of().formatHex(suffix);
    }

    /** The key files were stored under before each write had its own. */
    public static String key(String documentId, int version) {
        return documentId + "/v" + version;
    }

    /** The upload writing {@code key} has not committed its row yet: the sweep leaves the file alone. */
    public synchronized void pending(String key) {
        resolve(key);
        pending.add(key);
    }

    /** The upload of {@code key} has committed its row, or given up and removed its file. */
    public void settled(String key) {
        pending.remove(key);
    }

    /**
     * Stored files and temporary files of interrupted writes last modified before {@code before}, except those of
     * uploads still pending here. Files of unknown names are left alone.
     */
    public Stale stale(Instant before) throws IOException {
        List<String> keys = new ArrayList<>();
        List<Path> leftovers = new ArrayList<>();
        List<String> empty = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return new Stale(keys, leftovers, empty);
        }
        try (Stream<Path> documents = Files.list(root)) {
            for (Path dir : (Iterable<Path>) documents::iterator) {
                String documentId = dir.getFileName().toString();
                if (!Files.isDirectory(dir) || !documentId.matches("[a-z0-9_]+") || hasPending(documentId)) {
                    continue;
                }
                try (Stream<Path> files = Files.list(dir)) {
                    boolean none = true;
                    for (Path file : (Iterable<Path>) files::iterator) {
                        none = false;
                        String name = file.getFileName().toString();
                        if (!Files.isRegularFile(file) || !Files.getLastModifiedTime(file).toInstant().isBefore(before)) {
                            continue;
                        }
                        if (name.matches(FILE_NAME)) {
                            keys.add(documentId + "/" + name);
                        } else if (name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)) {
                            leftovers.add(file);
                        }
                    }
                    if (none && Files.getLastModifiedTime(dir).toInstant().isBefore(before)) {
                        empty.add(documentId);
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    // removed meanwhile (a delete)
                }
            }
        }
        return new Stale(keys, leftovers, empty);
    }

    /**
     * Removes the file of {@code key} if it is still last modified before {@code before} and no upload is pending
     * on it: checked again here, under the lock {@link #pending} takes, since an upload of a new version may have
     * started writing this very key since the sweep listed it. Whether it was removed.
     */
    public synchronized boolean deleteIfStale(String key, Instant before) throws IOException {
        Path file = resolve(key);
        if (pending.contains(key) || !Files.exists(file) || !Files.getLastModifiedTime(file).toInstant().isBefore(before)) {
            return false;
        }
        return Files.deleteIfExists(file);
    }

    /** Removes a document's directory if it holds nothing and no upload is pending in it. */
    public synchronized void removeIfEmpty(String documentId) {
        Path dir = resolve(documentId);
        if (hasPending(documentId)) {
            return;
        }
        try {
            Files.deleteIfExists(dir);
        } catch (java.nio.file.DirectoryNotEmptyException e) {
            // another version is still there
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private boolean hasPending(String documentId) {
        return pending.stream().anyMatch(k -> k.startsWith(documentId + "/"));
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
        if (!path.startsWith(root) || !key.matches("[a-z0-9_]+(/" + FILE_NAME + ")?")) {
            throw new IllegalArgumentException("not a blob key: " + key);
        }
        return path;
    }
}
