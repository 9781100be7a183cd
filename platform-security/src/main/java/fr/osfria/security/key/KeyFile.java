package fr.osfria.security.key;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import fr.osfria.events.EventJson;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The key registry file: {@code {"version":1,"keys":[...]}}. Reads validate, writes are atomic. */
public final class KeyFile {

    public static final int VERSION = 1;
    /** How long a change waits for another command's lock on the file. */
    static final long LOCK_WAIT_MILLIS = 10_000;

    public record Content(int version, List<KeyEntry> keys) {
        public Content {
            keys = keys == null ? List.of() : List.copyOf(keys);
        }
    }

    /**
     * @throws InvalidKeyFileException when the file cannot be read or does not hold a valid registry
     */
    public static List<KeyEntry> read(Path file) {
        Content content;
        try {
            content = EventJson.MAPPER.readValue(Files.readAllBytes(file), Content.class);
        } catch (JsonProcessingException e) {
            throw new InvalidKeyFileException(file + " is not a valid key file: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidKeyFileException(file + " cannot be read: " + e);
        }
        if (content == null || content.version() != VERSION) {
            throw new InvalidKeyFileException(file + " has no \"version\": " + VERSION);
        }
        Set<String> names = new HashSet<>();
        for (KeyEntry entry : content.keys()) {
            if (entry.name() == null || entry.name().isBlank()) {
                throw new InvalidKeyFileException(file + " has a key without a name");
            }
            if (!names.add(entry.name())) {
                throw new InvalidKeyFileException(file + " names key '" + entry.name() + "' twice");
            }
            if (entry.hash() == null || !entry.hash().matches("sha256:[0-9a-f]{64}")) {
                throw new InvalidKeyFileException(file + ": key '" + entry.name() + "' has no valid sha256 hash");
            }
        }
        return content.keys();
    }

    /** Reads the file, or an empty registry when it does not exist yet. */
    public static List<KeyEntry> readOrEmpty(Path file) {
        return Files.exists(file) ? new ArrayList<>(read(file)) : new ArrayList<>();
    }

    /** A change of the registry: edits {@code keys} in place and returns what its caller wants to know. */
    @FunctionalInterface
    public interface Change<T> {
        T apply(List<KeyEntry> keys) throws IOException;
    }

    /**
     * Reads the registry, applies {@code change} and writes it back if it changed, holding an exclusive lock on
     * {@code <file>.lock} throughout: two commands at once (a script creating keys in parallel, a revoke during a
     * create) each see the other's change instead of writing over it, so a revoked key cannot come back and a key
     * printed to its owner cannot be missing from the file.
     */
    public static <T> T update(Path file, Change<T> change) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path lockFile = dir.resolve(file.getFileName() + ".lock");
        // a file lock is held by the process: two threads of one JVM are kept apart here, or the second would throw
        synchronized (KeyFile.class) {
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock lock = lock(channel, lockFile)) {
                List<KeyEntry> keys = readOrEmpty(file);
                List<KeyEntry> before = List.copyOf(keys);
                T result = change.apply(keys);
                if (!keys.equals(before)) {
                    write(file, keys);
                }
                return result;
            }
        }
    }

    /**
     * The file's lock, waited for at most {@link #LOCK_WAIT_MILLIS}: a command stopped while holding it (Ctrl-Z) must
     * not leave a revoke hanging without a word.
     */
    private static FileLock lock(FileChannel channel, Path lockFile) throws IOException {
        long deadline = System.nanoTime() + LOCK_WAIT_MILLIS * 1_000_000;
        while (true) {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return lock;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("another keys command holds " + lockFile + " (waited "
                        + LOCK_WAIT_MILLIS / 1000 + " s); try again once it has ended");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + lockFile, e);
            }
        }
    }

    /**
     * Writes through a temporary file and a rename, so a reader never sees half a file. Owner-only permissions. A
     * change of the existing registry goes through {@link #update}, which reads and writes under its lock.
     */
    public static void write(Path file, List<KeyEntry> keys) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".keys", ".tmp");
        try {
            byte[] json = EventJson.MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsBytes(new Content(VERSION, keys));
            Files.write(tmp, json);
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system; the directory's permissions apply
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static final class InvalidKeyFileException extends RuntimeException {
        public InvalidKeyFileException(String message) {
            super(message);
        }
    }

    private KeyFile() {
    }
}
