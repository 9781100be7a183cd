package fr.osfria.security.crypto;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM: {@code nonce (12 bytes) | ciphertext | tag (16 bytes)}, a fresh random nonce each time. The
 * associated data binds a ciphertext to what it belongs to (a chunk id, a blob key), so one cannot be swapped
 * for another.
 */
public final class Aead {

    private static final int NONCE = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    public static byte[] encrypt(SecretKey key, byte[] plaintext, byte[] associatedData) {
        try {
            byte[] nonce = new byte[NONCE];
            RANDOM.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(associatedData);
            byte[] sealed = cipher.doFinal(plaintext);
            return ByteBuffer.allocate(NONCE + sealed.length).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is required by every Java runtime", e);
        }
    }

    /** @throws GeneralSecurityException when the key is wrong or the data was altered */
    public static byte[] decrypt(SecretKey key, byte[] sealed, byte[] associatedData) throws GeneralSecurityException {
        if (sealed.length < NONCE + TAG_BITS / 8) {
            throw new GeneralSecurityException("ciphertext too short");
        }
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE));
        cipher.updateAAD(associatedData);
        return cipher.doFinal(sealed, NONCE, sealed.length - NONCE);
    }

    /** Seals text for a JSON field or a stored string: base64 of nonce, ciphertext and tag. */
    public static String sealText(SecretKey key, String clear, String associatedData) {
        return java.util.Base64.getEncoder().encodeToString(encrypt(key, clear.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                associatedData.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    /** Opens what {@link #sealText} sealed with the same key and associated data. */
    public static String openText(SecretKey key, String sealed, String associatedData) throws GeneralSecurityException {
        byte[] raw;
        try {
            raw = java.util.Base64.getDecoder().decode(sealed);
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("sealed text is not base64");
        }
        return new String(decrypt(key, raw, associatedData.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    private Aead() {
    }
}
