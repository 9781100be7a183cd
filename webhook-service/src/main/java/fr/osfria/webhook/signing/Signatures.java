package fr.osfria.webhook.signing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The three signatures of a delivery, all HMAC-SHA256 with the subscription's secret (a {@code whsec_} secret's
 * key is its base64 part, as Standard Webhooks says; any other secret is used as its UTF-8 bytes):
 * <ul>
 * <li>{@code webhook-signature: v1,<base64 of HMAC(id.timestamp.body)>} (Standard Webhooks);</li>
 * <li>{@code X-Osfria-Signature: sha256=<hex of HMAC(body)>} (the GitHub convention);</li>
 * <li>the body's {@code signature} field: {@code sha256=<hex of HMAC(body without the field)>}.</li>
 * </ul>
 */
public final class Signatures {

    public static final String STANDARD_PREFIX = "whsec_";

    public static byte[] key(String secret) {
        if (secret.startsWith(STANDARD_PREFIX)) {
            return Base64.getDecoder().decode(secret.substring(STANDARD_PREFIX.length()));
        }
        return secret.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code unsigned} is a JSON object; the result is the same bytes with {@code "signature":"sha256=…"} appended. */
    public static String withBodySignature(byte[] key, String unsigned) {
        String signature = "sha256=" + hex(key, unsigned);
        return unsigned.substring(0, unsigned.lastIndexOf('}')) + ",\"signature\":\"" + signature + "\"}";
    }

    public static String standard(byte[] key, String id, long timestampSeconds, String body) {
        return "v1," + Base64.getEncoder().encodeToString(hmac(key, id + "." + timestampSeconds + "." + body));
    }

    public static String github(byte[] key, String body) {
        return "sha256=" + hex(key, body);
    }

    private static String hex(byte[] key, String data) {
        return HexFormat.of().formatHex(hmac(key, data));
    }

    private static byte[] hmac(byte[] key, String data) {
        return MAC.get().sign(key, data.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * One Mac per thread, initialised again only when the key changes: looking the algorithm up and initialising it
     * cost more than signing a delivery's body, three times per attempt.
     */
    private static final ThreadLocal<ThreadMac> MAC = ThreadLocal.withInitial(ThreadMac::new);

    private static final class ThreadMac {
        private final Mac mac;
        private byte[] key;

        ThreadMac() {
            try {
                mac = Mac.getInstance("HmacSHA256");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is required by every Java runtime", e);
            }
        }

        byte[] sign(byte[] key, byte[] data) {
            if (!Arrays.equals(this.key, key)) {
                try {
                    mac.init(new SecretKeySpec(key, "HmacSHA256"));
                } catch (GeneralSecurityException e) {
                    throw new IllegalArgumentException("not a usable HMAC key", e);
                }
                this.key = key.clone();
            }
            return mac.doFinal(data); // doFinal leaves the Mac ready for the same key
        }
    }

    private Signatures() {
    }
}
