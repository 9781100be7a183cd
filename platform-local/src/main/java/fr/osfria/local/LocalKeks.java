package fr.osfria.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The local platform's key-encryption keys, in its data directory (owner-readable only): {@code kek.base64} the
 * active one ({@code <id>:<base64>}; a bare base64 value, as first starts wrote it, is {@code kek-1}),
 * {@code retired-keks} the ones a rotation retired, one {@code <id>:<base64>} a line, and {@code kek-resealed} the
 * active id once every service has re-sealed everything under it (what allows removing the retired ones).
 */
final class LocalKeks {

    static final String DEFAULT_ID = "kek-1";
    private final Path active;
    private final Path retired;
    private final Path resealed;

    LocalKeks(Path dataDir) {
        this.active = dataDir.resolve("kek.base64");
        this.retired = dataDir.resolve("retired-keks");
        this.resealed = dataDir.resolve("kek-resealed");
    }

    /** The environment the services that seal data get: the active KEK with its id and the retired ones. */
    Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("OSFRIA_ENCRYPTION_KEK", activeEntry());
        List<String> old = retiredEntries();
        if (!old.isEmpty()) {
            env.put("OSFRIA_ENCRYPTION_RETIRED_KEKS", String.join(",", old));
        }
        return env;
    }

    /** {@code <id>:<base64>} of the active KEK, generated on the first start. Losing it loses confidential data. */
    String activeEntry() {
        if (!Files.exists(active)) {
            write(active, DEFAULT_ID + ":" + newKey());
        }
        String value = read(active).trim();
        return value.contains(":") ? value : DEFAULT_ID + ":" + value;
    }

    String activeId() {
        String entry = activeEntry();
        return entry.substring(0, entry.indexOf(':'));
    }

    List<String> retiredEntries() {
        if (!Files.exists(retired)) {
            return List.of();
        }
        return read(retired).lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
    }

    List<String> retiredIds() {
        return retiredEntries().stream().map(e -> e.substring(0, e.indexOf(':'))).toList();
    }

    /** A new active KEK ({@code kek-<n+1>}); the current one joins the retired ones. Returns the new id. */
    String rotate() {
        String current = activeEntry();
        int highest = 0;
        List<String> ids = new ArrayList<>(retiredIds());
        ids.add(activeId());
        for (String id : ids) {
            if (id.matches("kek-\\d{1,9}")) {
                highest = Math.max(highest, Integer.parseInt(id.substring(4)));
            }
        }
        String id = "kek-" + (highest + 1);
        List<String> old = new ArrayList<>(retiredEntries());
        old.add(current);
        write(retired, String.join("\n", old) + "\n"); // the retired list first: a crash between the two loses nothing
        write(active, id + ":" + newKey());
        return id;
    }

    /** Whether every service reported everything re-sealed under the active KEK. */
    boolean resealed() {
        return Files.exists(resealed) && read(resealed).trim().equals(activeId());
    }

    void markResealed() {
        write(resealed, activeId() + "\n");
    }

    /** Forgets the retired KEKs; returns their ids. */
    List<String> prune() {
        List<String> ids = retiredIds();
        try {
            Files.deleteIfExists(retired);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ids;
    }

    private static String newKey() {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        return Base64.getEncoder().encodeToString(raw);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Written to a temporary file made owner-only first, then moved into place. */
    private static void write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            Files.writeString(tmp, content);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
