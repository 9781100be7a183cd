package fr.osfria.security.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class KeyedHashTest {

    private static final SecretKeySpec KEK = new SecretKeySpec(new byte[32], "AES");
    private static final SecretKeySpec OTHER_KEK = new SecretKeySpec(HexFormat.of().parseHex("01".repeat(32)), "AES");

    /** RFC 5869, test case 3 (SHA-256, empty salt and info): our HKDF is the standard one. */
    @Test
    void hkdfMatchesTheRfcVector() {
        byte[] ikm = HexFormat.of().parseHex("0b".repeat(22));
        byte[] okm = KeyedHash.hkdf(ikm, new byte[0]).getEncoded();
        assertArrayEquals(HexFormat.of().parseHex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"), okm);
    }

    @Test
    void oneReadGivesTheHashUnderEachKek() throws Exception {
        byte[] file = "x".repeat(200_000).getBytes(StandardCharsets.UTF_8); // several buffers
        KeyedHash current = KeyedHash.derive(OTHER_KEK, "osfria-content-v1");
        KeyedHash retired = KeyedHash.derive(KEK, "osfria-content-v1");
        assertEquals(java.util.List.of(current.of("kb", new ByteArrayInputStream(file)), retired.of("kb", new ByteArrayInputStream(file))),
                KeyedHash.ofAll(java.util.List.of(current, retired), "kb", new ByteArrayInputStream(file)));
    }

    @Test
    void sameInputSameHashOtherLabelOrKekAnother() throws Exception {
        KeyedHash content = KeyedHash.derive(KEK, "osfria-content-v1");
        byte[] file = "les mêmes octets".getBytes(StandardCharsets.UTF_8);
        String a = content.of("kb", new ByteArrayInputStream(file));
        assertEquals(a, KeyedHash.derive(KEK, "osfria-content-v1").of("kb", new ByteArrayInputStream(file)));
        assertNotEquals(a, content.of("other", new ByteArrayInputStream(file)));
        assertNotEquals(a, KeyedHash.derive(KEK, "osfria-metadata-v1").of("kb", new ByteArrayInputStream(file)));
        assertNotEquals(a, KeyedHash.derive(OTHER_KEK, "osfria-content-v1").of("kb", new ByteArrayInputStream(file)));
        assertNotEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file)), a);
        assertEquals(64, a.length());
    }

    @Test
    void partsAreLengthPrefixed() {
        KeyedHash h = KeyedHash.derive(KEK, "x");
        assertNotEquals(h.of("ab", "c"), h.of("a", "bc"));
        assertEquals(h.of("ab", "c"), h.of("ab", "c"));
    }
}
