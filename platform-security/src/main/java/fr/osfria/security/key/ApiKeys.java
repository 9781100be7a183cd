package fr.osfria.security.key;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * API keys: {@code sk-osfria-} followed by 256 random bits in base64url. Only their SHA-256 is ever stored. A
 * fast hash is right here: the keys are random, not passwords, so there is nothing to brute-force.
 */
public final class ApiKeys {

    public static final String PREFIX = "sk-osfria-";
    /** Longer than any key we issue, short enough to refuse abuse before hashing it. */
    public static final int MAX_LENGTH = 128;
    private static final int RANDOM_BYTES = 32;
    private static final String HASH_PREFIX = "sha256:";
    private static final SecureRandom RANDOM = new SecureRandom();

    public static String generate() {
        byte[] bytes = new byte[RANDOM_BYTES];
        RANDOM.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The form stored in the key file: {@code sha256:<hex>}. */
    public static String hash(String key) {
        return HASH_PREFIX + HexFormat.of().formatHex(sha256(key));
    }

    /** Whether {@code presented} is the key behind {@code storedHash}, in time that does not depend on where they differ. */
    public static boolean matches(String presented, String storedHash) {
        if (storedHash == null || !storedHash.startsWith(HASH_PREFIX)) {
            return false;
        }
        byte[] expected;
        try {
            expected = HexFormat.of().parseHex(storedHash.substring(HASH_PREFIX.length()));
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(sha256(presented), expected);
    }

    /**
     * Whether two stored-form hashes ({@link #hash}) are the same, in time that does not depend on where they differ:
     * for a lookup that hashes the presented key once and compares it with every entry.
     */
    public static boolean sameHash(String presentedHash, String storedHash) {
        if (presentedHash == null || storedHash == null || presentedHash.length() != storedHash.length()) {
            return false; // the length of the stored form is no secret
        }
        int diff = 0; // every character compared, no copies: it runs for every entry on every request
        for (int i = 0; i < presentedHash.length(); i++) {
            diff |= presentedHash.charAt(i) ^ storedHash.charAt(i);
        }
        return diff == 0;
    }

    /** The key in an {@code Authorization: Bearer <key>} header value, or null when the value is not of that form. */
    public static String fromBearer(String authorization) {
        String scheme = "bearer ";
        if (authorization == null || authorization.length() <= scheme.length()
                || !authorization.regionMatches(true, 0, scheme, 0, scheme.length())) {
            return null;
        }
        return authorization.substring(scheme.length()).trim();
    }

    /** Whether a presented value has the shape of one of our keys (checked before any lookup). */
    public static boolean wellFormed(String presented) {
        if (presented == null || !presented.startsWith(PREFIX) || presented.length() > MAX_LENGTH
                || presented.length() == PREFIX.length()) {
            return false;
        }
        for (int i = PREFIX.length(); i < presented.length(); i++) {
            char c = presented.charAt(i);
            boolean base64url = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!base64url) {
                return false;
            }
        }
        return true;
    }

    /** A short, non-secret label for logs and listings: the prefix and the first four characters. */
    public static String hint(String key) {
        return key.substring(0, Math.min(key.length(), PREFIX.length() + 4)) + "…";
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
        }
    }

    private ApiKeys() {
    }
}
