package fr.osfria.testing;

import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyFile;
import fr.osfria.security.key.KeysCli;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A real key file with freshly generated keys, written the way {@code osfria keys create} writes it. The clear
 * keys exist only in this JVM's memory.
 * <ul>
 * <li>{@link #ADMIN}: role admin.</li>
 * <li>{@link #FINANCE}: reads and writes collection {@code knowledge-base}, department {@code finance}, cleared
 * for confidential documents.</li>
 * <li>{@link #HR}: reads and writes {@code knowledge-base}, department {@code hr}, not cleared.</li>
 * <li>{@link #READER}: reads {@code knowledge-base}, every department, writes nothing.</li>
 * <li>{@link #REVOKED}: was like FINANCE, then revoked.</li>
 * </ul>
 */
public class TestKeys implements QuarkusTestResourceLifecycleManager {

    public static final Path FILE;
    public static final String ADMIN;
    public static final String FINANCE;
    public static final String HR;
    public static final String READER;
    public static final String REVOKED;

    static {
        try {
            FILE = Files.createTempDirectory("osfria-keys").resolve("keys.json");
            ADMIN = create("test-admin", Set.of("admin"), List.of(), List.of(), List.of(), false);
            FINANCE = create("test-finance", Set.of("user"), List.of("knowledge-base"), List.of("knowledge-base"),
                    List.of("finance"), true);
            HR = create("test-hr", Set.of("user"), List.of("knowledge-base"), List.of("knowledge-base"), List.of("hr"), false);
            READER = create("test-reader", Set.of("user"), List.of("knowledge-base"), List.of(), List.of("*"), false);
            REVOKED = create("test-revoked", Set.of("user"), List.of("knowledge-base"), List.of("knowledge-base"),
                    List.of("finance"), true);
            KeyFile.update(FILE, keys -> {
                keys.replaceAll(k -> k.name().equals("test-revoked") ? k.revoke(java.time.Instant.now()) : k);
                return null;
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String create(String name, Set<String> roles, List<String> read, List<String> write,
                                 List<String> departments, boolean confidential) throws IOException {
        return KeysCli.create(FILE, new KeyEntry(name, null, null, roles, read, write, departments, confidential,
                null, null, null, null, null, null));
    }

    /**
     * A user key with inference limits (null: none), added to the key file while the test runs; services pick it
     * up at their next reload (every 200 ms under this resource).
     */
    public static synchronized String metered(String name, Long dailyTokens, Long monthlyTokens, Long requestsPerMinute,
                                 Long tokensPerMinute) {
        try {
            return KeysCli.create(FILE, new KeyEntry(name, null, null, Set.of("user"), List.of(), List.of(), List.of(),
                    false, dailyTokens, monthlyTokens, requestsPerMinute, tokensPerMinute, null, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String bearer(String key) {
        return "Bearer " + key;
    }

    @Override
    public Map<String, String> start() {
        return Map.of("osfria.security.keys-file", FILE.toString(),
                "osfria.security.reload-interval", "200ms");
    }

    @Override
    public void stop() {
    }
}
