package fr.osfria.security.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

class KeyringTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private final byte[] a = random();
    private final byte[] b = random();
    private final byte[] c = random();

    @Test
    void whatARetiredKekSealedStillOpensAndResealsUnderTheActiveOne() throws Exception {
        Keyring before = new Keyring("kek-1", a, Map.of());
        String sealed = before.seal("osfria-test-v1", "whsec_secret", "wh_1");
        assertTrue(sealed.startsWith("kek-1:"));

        Keyring after = new Keyring("kek-2", b, Map.of("kek-1", a));
        assertEquals("whsec_secret", after.open("osfria-test-v1", sealed, "wh_1"));
        assertFalse(after.underActive(sealed));
        String resealed = after.reseal("osfria-test-v1", sealed, "wh_1");
        assertTrue(after.underActive(resealed));

        Keyring twice = new Keyring("kek-3", c, Map.of("kek-2", b));
        assertEquals("whsec_secret", twice.open("osfria-test-v1", resealed, "wh_1"));
        GeneralSecurityException gone = assertThrows(GeneralSecurityException.class, () -> twice.open("osfria-test-v1", sealed, "wh_1"));
        assertTrue(gone.getMessage().contains("kek-1"), gone.getMessage());
        // bound to its subscription and purpose
        assertThrows(GeneralSecurityException.class, () -> after.open("osfria-test-v1", resealed, "wh_2"));
        assertThrows(GeneralSecurityException.class, () -> after.open("osfria-other-v1", resealed, "wh_1"));
    }

    @Test
    void valuesSealedBeforeVersioningOpenUnderWhicheverKekSealedThem() throws Exception {
        Keyring old = new Keyring("kek-1", a, Map.of());
        String legacy = Aead.sealText(old.deriveActive("osfria-test-v1"), "clear", "ad"); // the former format
        Keyring rotated = new Keyring("kek-2", b, Map.of("kek-1", a));
        assertEquals("clear", rotated.open("osfria-test-v1", legacy, "ad"));
        assertFalse(rotated.underActive(legacy));
        assertThrows(GeneralSecurityException.class, () -> new Keyring("kek-3", c, Map.of()).open("osfria-test-v1", legacy, "ad"));
    }

    @Test
    void derivedKeysAreStablePerKekAndDifferAcrossKeks() throws Exception {
        Keyring ring = new Keyring("kek-2", b, Map.of("kek-1", a));
        assertEquals(List.of("kek-2", "kek-1"), ring.ids());
        assertEquals(List.of("kek-1"), ring.retiredIds());
        SecretKey k1 = ring.derive("kek-1", "p");
        assertArrayEquals(k1.getEncoded(), new Keyring("kek-1", a, Map.of()).deriveActive("p").getEncoded());
        assertNotEquals(Base64.getEncoder().encodeToString(k1.getEncoded()),
                Base64.getEncoder().encodeToString(ring.deriveActive("p").getEncoded()));
        assertThrows(GeneralSecurityException.class, () -> ring.derive("kek-9", "p"));
    }

    @Test
    void dataKeysRewrapUnderTheActiveKekAndStayTheSame() throws Exception {
        Envelope old = new Envelope(new Keyring("kek-1", a, Map.of()));
        SecretKey dataKey = old.newDataKey();
        String wrapped = old.wrap(dataKey);
        Envelope rotated = new Envelope(new Keyring("kek-2", b, Map.of("kek-1", a)));
        String rewrapped = rotated.rewrap(wrapped);
        assertTrue(rewrapped.startsWith("kek-2:"));
        assertEquals(rewrapped, rotated.rewrap(rewrapped));
        Envelope only = new Envelope(new Keyring("kek-2", b, Map.of()));
        assertArrayEquals(dataKey.getEncoded(), only.unwrap(rewrapped).getEncoded());
        assertThrows(GeneralSecurityException.class, () -> only.unwrap(wrapped));
    }

    @Test
    void configuresTheActiveKekWithItsIdAndTheRetiredOnes() {
        String a64 = Base64.getEncoder().encodeToString(a);
        String b64 = Base64.getEncoder().encodeToString(b);
        String c64 = Base64.getEncoder().encodeToString(c);
        // the former configuration keeps working: a bare KEK is kek-1
        Keyring legacy = new Keyring(config(Map.of("osfria.encryption.kek", a64)));
        assertEquals(List.of("kek-1"), legacy.ids());

        Map<String, String> list = new LinkedHashMap<>();
        list.put("osfria.encryption.kek", "kek-3:" + c64);
        list.put("osfria.encryption.retired-keks", "kek-2:" + b64 + ", kek-1:" + a64);
        assertEquals(List.of("kek-3", "kek-2", "kek-1"), new Keyring(config(list)).ids());

        Map<String, String> withId = Map.of("osfria.encryption.kek", b64, "osfria.encryption.kek-id", "kek-2",
                "osfria.encryption.retired-keks", "kek-1:" + a64);
        assertEquals(List.of("kek-2", "kek-1"), new Keyring(config(withId)).ids());

        assertThrows(IllegalArgumentException.class, () -> new Keyring(config(Map.of("osfria.encryption.kek", "kek-1:" + a64,
                "osfria.encryption.retired-keks", "kek-1:" + b64))));
        assertThrows(IllegalArgumentException.class, () -> new Keyring(config(Map.of("osfria.encryption.kek", "kek-2:" + b64,
                "osfria.encryption.retired-keks", a64))));
        assertFalse(new Keyring(config(Map.of())).available());
    }

    private static EncryptionConfig config(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(EncryptionConfig.class)
                .withSources(new PropertiesConfigSource(properties, "test", 100)).build();
        return config.getConfigMapping(EncryptionConfig.class);
    }

    private static byte[] random() {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        return raw;
    }
}
