package fr.osfria.security.crypto;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The key-encryption keys shared by the services that seal data (ingest, embed, webhook): the active one and the
 * retired ones a rotation leaves behind (see {@link Keyring}).
 */
@ConfigMapping(prefix = "osfria.encryption")
public interface EncryptionConfig {

    /**
     * The active KEK: 32 random bytes in base64, or {@code <id>:<base64>} to name it in the same value (a Kubernetes
     * Secret in production; the local platform generates one). Without it, confidential documents are refused.
     */
    Optional<String> kek();

    /** The id of {@link #kek()} when the value does not name it, stored with everything it seals. */
    @WithDefault("kek-1")
    String kekId();

    /**
     * Retired KEKs, which still open what they sealed until a re-seal has moved everything to the active one:
     * {@code <id>:<base64>,<id>:<base64>} ({@code OSFRIA_ENCRYPTION_RETIRED_KEKS}).
     */
    Optional<String> retiredKeks();

    /** The active KEK's id: the one named in {@link #kek()}, else {@link #kekId()}. */
    default String activeId() {
        String id = kek().map(Keyring::idOf).orElse(null);
        return id != null ? id : kekId();
    }

    /** The retired KEKs by id. */
    default Map<String, String> retired() {
        Map<String, String> retired = new LinkedHashMap<>();
        for (String entry : retiredKeks().orElse("").split(",")) {
            String e = entry.trim();
            if (e.isEmpty()) {
                continue;
            }
            String id = Keyring.idOf(e);
            if (id == null) {
                throw new IllegalArgumentException("osfria.encryption.retired-keks: each entry is <id>:<base64>");
            }
            if (retired.put(id, e.substring(id.length() + 1)) != null) {
                throw new IllegalArgumentException("osfria.encryption.retired-keks names " + id + " twice");
            }
        }
        return retired;
    }

    /** The key bytes of a KEK value ({@code <base64>} or {@code <id>:<base64>}). */
    static byte[] secretOf(String value) {
        String id = Keyring.idOf(value);
        return Keyring.decode("osfria.encryption.kek", id == null ? value : value.substring(id.length() + 1));
    }
}
