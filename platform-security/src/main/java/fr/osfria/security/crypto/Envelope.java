package fr.osfria.security.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Envelope encryption: each confidential document version has its own random AES-256 data key, stored only
 * wrapped by a key-encryption key of the {@link Keyring}, as {@code <kek id>:<base64>}. New keys are wrapped by the
 * active KEK; keys wrapped by a retired one still unwrap, and {@link #rewrap} moves them to the active one (the
 * data key, hence everything sealed with it, stays the same).
 */
@ApplicationScoped
public class Envelope {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] WRAP_CONTEXT = "osfria-data-key".getBytes(StandardCharsets.UTF_8);

    private final Keyring keyring;

    public Envelope(Keyring keyring) {
        this.keyring = keyring;
    }

    public Keyring keyring() {
        return keyring;
    }

    public boolean available() {
        return keyring.available();
    }

    public SecretKey newDataKey() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return new SecretKeySpec(bytes, "AES");
    }

    public String wrap(SecretKey dataKey) {
        return keyring.activeId() + ":" + Base64.getEncoder().encodeToString(Aead.encrypt(keyring.active(),
                dataKey.getEncoded(), WRAP_CONTEXT));
    }

    public SecretKey unwrap(String wrapped) throws GeneralSecurityException {
        String id = Keyring.idOf(wrapped);
        if (id == null) {
            throw new GeneralSecurityException("a wrapped key without its key-encryption key id");
        }
        SecretKey kek;
        try {
            kek = keyring.kek(id);
        } catch (GeneralSecurityException e) {
            throw new GeneralSecurityException("the key-encryption key '" + id + "' that wrapped this document's key is not configured");
        }
        byte[] raw = Aead.decrypt(kek, Base64.getDecoder().decode(wrapped.substring(id.length() + 1)), WRAP_CONTEXT);
        return new SecretKeySpec(raw, "AES");
    }

    /** The same data key wrapped by the active KEK; {@code wrapped} itself when it already is. */
    public String rewrap(String wrapped) throws GeneralSecurityException {
        return keyring.underActive(wrapped) ? wrapped : wrap(unwrap(wrapped));
    }

    /**
     * A key for another purpose derived from the active KEK, for new values only: record
     * {@code keyring().activeId()} with what it makes, and use {@link Keyring#derive} to read them back (or
     * {@link Keyring#seal}/{@link Keyring#open}, which do both).
     */
    public SecretKey derivedKey(String purpose) {
        return keyring.deriveActive(purpose);
    }

    /**
     * The keyed hash for {@code label} under the active KEK (HKDF, see {@link KeyedHash}): duplicate detection, the
     * metadata filter index. Hashes change with the KEK: read back with {@link #keyedHash(String, String)}.
     */
    public KeyedHash keyedHash(String label) {
        if (!keyring.available()) {
            throw new IllegalStateException("no key-encryption key configured");
        }
        return KeyedHash.derive(keyring.active(), label);
    }

    /** The keyed hash for {@code label} under the KEK {@code kekId} of the keyring (active or retired). */
    public KeyedHash keyedHash(String kekId, String label) throws GeneralSecurityException {
        return KeyedHash.derive(keyring.kek(kekId), label);
    }

    /**
     * The keyed hashes for {@code label} under every KEK of the keyring, the active one first: a value hashed before
     * a rotation is found by its hash under the KEK of the time, as long as that KEK is configured.
     */
    public List<KeyedHash> keyedHashes(String label) throws GeneralSecurityException {
        List<KeyedHash> hashes = new ArrayList<>();
        for (String id : keyring.ids()) {
            hashes.add(keyedHash(id, label));
        }
        return hashes;
    }

    /** For tests and tools: the KEK as configured, to check ciphertexts from outside. */
    public static Optional<SecretKey> parse(String base64) {
        return Optional.ofNullable(base64).map(b -> new SecretKeySpec(EncryptionConfig.secretOf(b), "AES"));
    }
}
