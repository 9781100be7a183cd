package fr.osfria.security.key;

import fr.osfria.security.SecurityConfig;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The keys this service accepts, reloaded from the key file when its content changes. A file that becomes
 * unreadable or invalid leaves the last good registry in force; the error is logged and shown in health.
 */
@ApplicationScoped
public class KeyRegistry {

    /** What the registry knows and where it came from; replaced whole on every successful reload. */
    public record State(List<KeyEntry> keys, byte[] fileDigest, Instant loadedAt, String lastError, Instant lastErrorAt) {
        static final State EMPTY = new State(List.of(), new byte[0], null, null, null);

        public boolean loaded() {
            return loadedAt != null;
        }
    }

    private final Path file;
    private final long intervalMillis;
    private volatile State state = State.EMPTY;
    private ScheduledExecutorService watcher;

    public KeyRegistry(SecurityConfig config) {
        this.file = config.keysFile();
        this.intervalMillis = Math.max(100, config.reloadInterval().toMillis());
    }

    void start(@Observes StartupEvent event) {
        reload();
        // A K8s Secret update swaps a symlink, which file watchers miss; polling the content is reliable.
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "osfria-key-registry");
            t.setDaemon(true);
            return t;
        });
        watcher.scheduleWithFixedDelay(this::reload, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }

    /** Re-reads the key file if its bytes changed. Public so tests and admin tools can force it. */
    public synchronized void reload() {
        State current = state;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            fail(current, "key file " + file + " cannot be read (" + e.getClass().getSimpleName() + ")");
            return;
        }
        byte[] digest = digest(bytes);
        if (current.loaded() && current.lastError() == null && MessageDigest.isEqual(digest, current.fileDigest())) {
            return;
        }
        try {
            List<KeyEntry> keys = KeyFile.read(file);
            state = new State(keys, digest, Instant.now(), null, null);
            Log.infof("API key registry loaded from %s: %d keys (%d active)", file, keys.size(),
                    keys.stream().filter(k -> !k.revoked()).count());
        } catch (KeyFile.InvalidKeyFileException e) {
            fail(current, e.getMessage());
        }
    }

    private void fail(State current, String error) {
        if (error.equals(current.lastError())) {
            return; // said once already; do not flood the log every few seconds
        }
        state = new State(current.keys(), current.fileDigest(), current.loadedAt(), error, Instant.now());
        if (current.loaded()) {
            Log.errorf("%s; keeping the registry loaded at %s", error, current.loadedAt());
        } else {
            Log.errorf("%s; no API key will be accepted until it is fixed", error);
        }
    }

    /** The active key whose hash matches, compared against every entry in constant time per entry. */
    public Optional<KeyEntry> find(String presentedKey) {
        if (!ApiKeys.wellFormed(presentedKey)) {
            return Optional.empty();
        }
        // hashed once, not once per entry: the lookup runs on every request
        String presented = ApiKeys.hash(presentedKey);
        KeyEntry match = null;
        for (KeyEntry entry : state.keys()) {
            // no early exit: the time taken does not tell which entry matched
            if (ApiKeys.sameHash(presented, entry.hash()) && !entry.revoked()) { // the key file holds lower-case hex
                match = entry;
            }
        }
        return Optional.ofNullable(match);
    }

    /** The active (not revoked) key of that name: what a key may do now, for work done on its behalf later. */
    public Optional<KeyEntry> active(String name) {
        for (KeyEntry entry : state.keys()) {
            if (entry.name().equals(name) && !entry.revoked()) {
                return Optional.of(entry);
            }
        }
        return Optional.empty();
    }

    public State state() {
        return state;
    }

    public Path file() {
        return file;
    }

    private static byte[] digest(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
