package fr.osfria.security.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Envelope encryption: each confidential document version has its own random AES-256 data key, stored only
 * wrapped by a key-encryption key (KEK) from configuration, as {@code <kek id>:<base64>}. The id lets a site
 * rotate the KEK: new documents use the current one, older ones unwrap with the retired keys kept in configuration.
 */
@ApplicationScoped
public class Envelope {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] WRAP_CONTEXT = "osfria-data-key".getBytes(StandardCharsets.UTF_8);

    private final String currentId;
    private final SecretKey current;
    private final Map<String, SecretKey> keks = new HashMap<>();

    public Envelope(EncryptionConfig encryption) {
        this.currentId = encryption.kekId();
        this.current = encryption.kek().map(k -> key("osfria.encryption.kek", k)).orElse(null);
        if (current != null) {
            keks.put(currentId, current);
        }
        encryption.retiredKeks().forEach((id, k) -> keks.put(id, key("osfria.encryption.retired-keks." + id, k)));
    }

    public boolean available() {
        return current != null;
    }

    public SecretKey newDataKey() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return new SecretKeySpec(bytes, "AES");
    }

    public String wrap(SecretKey dataKey) {
        if (current == null) {
            throw new IllegalStateException("no key-encryption key configured");
        }
        return currentId + ":" + Base64.getEncoder().encodeToString(Aead.encrypt(current, dataKey.getEncoded(), WRAP_CONTEXT));
    }

    public SecretKey unwrap(String wrapped) throws GeneralSecurityException {
        int colon = wrapped.indexOf(':');
        SecretKey kek = colon > 0 ? keks.get(wrapped.substring(0, colon)) : null;
        if (kek == null) {
            throw new GeneralSecurityException("the key-encryption key '" + (colon > 0 ? wrapped.substring(0, colon) : "?")
                    + "' that wrapped this document's key is not configured");
        }
        byte[] raw = Aead.decrypt(kek, Base64.getDecoder().decode(wrapped.substring(colon + 1)), WRAP_CONTEXT);
        return new SecretKeySpec(raw, "AES");
    }

    /**
     * A key for another purpose derived from the current KEK (HMAC-SHA256 of the purpose), e.g. the key of the
     * blind keyword index. Every service with the same KEK derives the same key.
     */
    public SecretKey derivedKey(String purpose) {
        if (current == null) {
            throw new IllegalStateException("no key-encryption key configured");
        }
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(current);
            return new SecretKeySpec(mac.doFinal(purpose.getBytes(StandardCharsets.UTF_8)), "HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required by every Java runtime", e);
        }
    }

    /**
     * The keyed hash for {@code label} under the current KEK (HKDF, see {@link KeyedHash}): duplicate detection,
     * the metadata filter index. Hashes change with the KEK.
     */
    public KeyedHash keyedHash(String label) {
        if (current == null) {
            throw new IllegalStateException("no key-encryption key configured");
        }
        return KeyedHash.derive(current, label);
    }

    private static SecretKey key(String property, String base64) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(property + " is not base64");
        }
        if (raw.length != 32) {
            throw new IllegalArgumentException(property + " must be 32 bytes (AES-256), base64-encoded; it is " + raw.length);
        }
        return new SecretKeySpec(raw, "AES");
    }

    /** For tests and tools: the KEK as configured, to check ciphertexts from outside. */
    public static Optional<SecretKey> parse(String base64) {
        return Optional.ofNullable(base64).map(b -> key("kek", b));
    }
}
