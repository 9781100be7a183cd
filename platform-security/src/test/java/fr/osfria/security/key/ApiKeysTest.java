package fr.osfria.security.key;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

    @Test
    void keysCarryAtLeast192RandomBitsAndNeverRepeat() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String key = ApiKeys.generate();
            assertTrue(key.startsWith("sk-osfria-"));
            byte[] random = Base64.getUrlDecoder().decode(key.substring(ApiKeys.PREFIX.length()));
            assertTrue(random.length * 8 >= 192);
            assertTrue(ApiKeys.wellFormed(key), key);
            assertTrue(seen.add(key));
        }
    }

    @Test
    void aKeyMatchesOnlyItsOwnHash() {
        String key = ApiKeys.generate();
        String hash = ApiKeys.hash(key);
        assertTrue(hash.matches("sha256:[0-9a-f]{64}"));
        assertFalse(hash.contains(key.substring(ApiKeys.PREFIX.length())));
        assertTrue(ApiKeys.matches(key, hash));
        assertFalse(ApiKeys.matches(ApiKeys.generate(), hash));
        assertFalse(ApiKeys.matches(key + "x", hash));
        assertFalse(ApiKeys.matches(key, "sha256:zz"));
        assertFalse(ApiKeys.matches(key, null));
        assertFalse(ApiKeys.matches(key, "md5:" + hash.substring(7)));
        assertTrue(ApiKeys.sameHash(ApiKeys.hash(key), hash));
        assertFalse(ApiKeys.sameHash(ApiKeys.hash(key + "x"), hash));
        assertFalse(ApiKeys.sameHash(ApiKeys.hash(key), null));
        assertFalse(ApiKeys.sameHash(ApiKeys.hash(key), hash.substring(0, 20)));
    }

    @Test
    void refusesWhatIsNotShapedLikeOurKeys() {
        assertFalse(ApiKeys.wellFormed(null));
        assertFalse(ApiKeys.wellFormed(""));
        assertFalse(ApiKeys.wellFormed("sk-osfria-"));
        assertFalse(ApiKeys.wellFormed("sk-openai-abc"));
        assertFalse(ApiKeys.wellFormed("sk-osfria-abc def"));
        assertFalse(ApiKeys.wellFormed("sk-osfria-abc/+="));
        assertFalse(ApiKeys.wellFormed("sk-osfria-" + "a".repeat(200)));
    }

    @Test
    void theHintShowsOnlyTheStart() {
        assertEquals("sk-osfria-AbCd…", ApiKeys.hint("sk-osfria-AbCdEfGh"));
    }
}
