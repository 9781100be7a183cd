package fr.osfria.security.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 under a key derived from the key-encryption key by HKDF-SHA256 (RFC 5869) with a label naming its
 * purpose: equal inputs give equal hashes (so they can be compared or filtered on), yet whoever reads the hashes
 * without the KEK can neither recompute nor confirm them, unlike a plain SHA-256. One label, one key: a hash made
 * for one purpose says nothing about another.
 */
public final class KeyedHash {

    private static final String HMAC = "HmacSHA256";

    private final SecretKey key;

    private KeyedHash(SecretKey key) {
        this.key = key;
    }

    /** The keyed hash of {@code label} under {@code kek} (any KEK: current or retired, the caller chooses). */
    public static KeyedHash derive(SecretKey kek, String label) {
        return new KeyedHash(hkdf(kek.getEncoded(), label.getBytes(StandardCharsets.UTF_8)));
    }

    /** Hex of the HMAC of {@code parts}, each length-prefixed so that ("ab","c") and ("a","bc") differ. */
    public String of(String... parts) {
        Mac mac = mac(key);
        for (String part : parts) {
            update(mac, part);
        }
        return HexFormat.of().formatHex(mac.doFinal());
    }

    /** Hex of the HMAC of {@code context} then every byte of {@code content}, streamed. */
    public String of(String context, InputStream content) throws IOException {
        Mac mac = mac(key);
        update(mac, context);
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = content.read(buffer)) > 0; ) {
            mac.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(mac.doFinal());
    }

    /**
     * {@link #of(String, InputStream)} under each of {@code hashes} in one read of {@code content} (the hashes of
     * one value under every KEK of a keyring, to find what was hashed before a rotation), in their order.
     */
    public static List<String> ofAll(List<KeyedHash> hashes, String context, InputStream content) throws IOException {
        List<Mac> macs = new ArrayList<>();
        for (KeyedHash hash : hashes) {
            Mac mac = mac(hash.key);
            update(mac, context);
            macs.add(mac);
        }
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = content.read(buffer)) > 0; ) {
            for (Mac mac : macs) {
                mac.update(buffer, 0, n);
            }
        }
        return macs.stream().map(mac -> HexFormat.of().formatHex(mac.doFinal())).toList();
    }

    private static void update(Mac mac, String part) {
        byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
        mac.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
        mac.update(bytes);
    }

    /** HKDF-SHA256 with an all-zero salt: extract, then one block of expand with {@code info}. */
    static SecretKey hkdf(byte[] inputKey, byte[] info) {
        Mac extract = mac(new SecretKeySpec(new byte[32], HMAC));
        byte[] prk = extract.doFinal(inputKey);
        Mac expand = mac(new SecretKeySpec(prk, HMAC));
        expand.update(info);
        expand.update((byte) 1);
        return new SecretKeySpec(expand.doFinal(), HMAC);
    }

    private static Mac mac(SecretKey key) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required by every Java runtime", e);
        }
    }
}
