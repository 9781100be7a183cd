package fr.osfria.security.crypto;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The key-encryption keys (KEKs): one active KEK seals everything new, retired ones still open what they sealed,
 * so a site can rotate without losing anything. Everything sealed under a KEK, or under a key derived from one,
 * names the KEK's id in front ({@code <kek id>:<sealed>}); a re-seal moves it to the active KEK, after which the
 * retired KEK can be removed from configuration.
 *
 * <p>Derived keys ({@link #derive}) are HMAC-SHA256 of a purpose string under a KEK: every service with the same
 * keyring derives the same keys, and each derived value is as versioned as the KEK it comes from.
 */
@Singleton
public class Keyring {

    private final String activeId;
    private final Map<String, SecretKey> keks; // active first

    @Inject
    public Keyring(EncryptionConfig config) {
        this(config.activeId(), config.kek().map(EncryptionConfig::secretOf).orElse(null), retired(config));
    }

    /** A keyring: the active KEK (null: confidential data is refused) and the retired ones by id (32 bytes each). */
    public Keyring(String activeId, byte[] active, Map<String, byte[]> retired) {
        checkId(activeId);
        Map<String, SecretKey> all = new LinkedHashMap<>();
        if (active != null) {
            all.put(activeId, aes("the active KEK", active));
        }
        retired.forEach((id, raw) -> {
            checkId(id);
            if (id.equals(activeId)) {
                throw new IllegalArgumentException("the KEK id '" + id + "' is both active and retired");
            }
            all.put(id, aes("the retired KEK " + id, raw));
        });
        this.activeId = activeId;
        this.keks = Collections.unmodifiableMap(all);
    }

    private static Map<String, byte[]> retired(EncryptionConfig config) {
        Map<String, byte[]> retired = new LinkedHashMap<>();
        config.retired().forEach((id, base64) -> retired.put(id, decode("retired KEK " + id, base64)));
        return retired;
    }

    /** Whether there is an active KEK: without one, nothing confidential can be sealed. */
    public boolean available() {
        return keks.containsKey(activeId);
    }

    public String activeId() {
        return activeId;
    }

    /** Every KEK id that can open data: the active one first, then the retired ones. */
    public List<String> ids() {
        return new ArrayList<>(keks.keySet());
    }

    /** The retired KEK ids (what a re-seal moves away from). */
    public List<String> retiredIds() {
        return keks.keySet().stream().filter(id -> !id.equals(activeId)).toList();
    }

    /** @throws GeneralSecurityException when no KEK of that id is configured (removed too early, or never known) */
    public SecretKey kek(String id) throws GeneralSecurityException {
        SecretKey kek = keks.get(id);
        if (kek == null) {
            throw new GeneralSecurityException("the key-encryption key '" + id + "' is not configured");
        }
        return kek;
    }

    SecretKey active() {
        if (!available()) {
            throw new IllegalStateException("no key-encryption key configured (OSFRIA_ENCRYPTION_KEK)");
        }
        return keks.get(activeId);
    }

    /**
     * A key for {@code purpose} derived from the KEK {@code kekId} (HMAC-SHA256 of the purpose), usable as an AES-256
     * or an HMAC key. Values made with it must record {@code kekId} (see {@link #seal}), or be recomputed for every
     * id of {@link #ids()} when looked up (as the blind index does), so that they survive a rotation.
     */
    public SecretKey derive(String kekId, String purpose) throws GeneralSecurityException {
        return derive(kek(kekId), purpose);
    }

    /** {@link #derive} for the active KEK. */
    public SecretKey deriveActive(String purpose) {
        return derive(active(), purpose);
    }

    private static SecretKey derive(SecretKey kek, String purpose) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(kek);
            return new SecretKeySpec(mac.doFinal(purpose.getBytes(StandardCharsets.UTF_8)), "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required by every Java runtime", e);
        }
    }

    /**
     * Seals text under the key derived for {@code purpose} from the active KEK, bound to {@code associatedData}:
     * {@code <active kek id>:<base64 of nonce, ciphertext, tag>}.
     */
    public String seal(String purpose, String clear, String associatedData) {
        return activeId + ":" + Aead.sealText(deriveActive(purpose), clear, associatedData);
    }

    /**
     * Opens what {@link #seal} sealed, under whichever KEK of the keyring its prefix names. A value without a prefix
     * (sealed before KEKs were versioned) is tried under every KEK, the AEAD tag telling which one it was.
     */
    public String open(String purpose, String sealed, String associatedData) throws GeneralSecurityException {
        String id = idOf(sealed);
        if (id != null) {
            return Aead.openText(derive(id, purpose), sealed.substring(id.length() + 1), associatedData);
        }
        for (SecretKey kek : keks.values()) {
            try {
                return Aead.openText(derive(kek, purpose), sealed, associatedData);
            } catch (GeneralSecurityException wrongKey) {
                // try the next one
            }
        }
        throw new GeneralSecurityException("no configured key-encryption key opens this value");
    }

    /** {@link #open} then {@link #seal}: the same text, sealed under the active KEK. */
    public String reseal(String purpose, String sealed, String associatedData) throws GeneralSecurityException {
        return seal(purpose, open(purpose, sealed, associatedData), associatedData);
    }

    /** Whether a versioned value ({@code <kek id>:…}) is sealed under the active KEK. */
    public boolean underActive(String versioned) {
        return activeId.equals(idOf(versioned));
    }

    /** The KEK id in front of a versioned value, or null when it has none (base64 never contains ':'). */
    public static String idOf(String versioned) {
        int colon = versioned == null ? -1 : versioned.indexOf(':');
        return colon > 0 ? versioned.substring(0, colon) : null;
    }

    private static void checkId(String id) {
        if (id == null || id.isBlank() || !id.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("a KEK id is 1 to 64 letters, digits, '.', '_' or '-', not '" + id + "'");
        }
    }

    static byte[] decode(String what, String base64) {
        try {
            return Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is not base64");
        }
    }

    private static SecretKey aes(String what, byte[] raw) {
        if (raw.length != 32) {
            throw new IllegalArgumentException(what + " must be 32 bytes (AES-256), base64-encoded; it is " + raw.length);
        }
        return new SecretKeySpec(raw, "AES");
    }
}
