package fr.osfria.security.rights;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.key.KeyEntry;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RightsTest {

    static KeyEntry key(Set<String> roles, List<String> read, List<String> write, List<String> depts, boolean confidential) {
        return new KeyEntry("k", "sha256:x", null, roles, read, write, depts, confidential, null, null, null, null, null, null);
    }

    private final KeyEntry finance = key(Set.of("user"), List.of("kb"), List.of("kb"), List.of("finance"), false);
    private final KeyEntry cleared = key(Set.of("user"), List.of("*"), List.of(), List.of("*"), true);
    private final KeyEntry admin = key(Set.of("admin"), List.of(), List.of(), List.of(), false);

    @Test
    void aDocumentIsVisibleOnlyWithItsCollectionDepartmentAndClearance() {
        assertTrue(Rights.canRead(finance, "kb", "finance", false));
        assertTrue(Rights.canRead(finance, "kb", null, false), "no department: the collection decides");
        assertFalse(Rights.canRead(finance, "kb", "hr", false));
        assertFalse(Rights.canRead(finance, "other", "finance", false));
        assertFalse(Rights.canRead(finance, "kb", "finance", true), "not cleared for confidential");
        assertFalse(Rights.canRead(finance, null, "finance", false));
    }

    @Test
    void wildcardsGrantAllButWritingNeedsItsOwnGrant() {
        assertTrue(Rights.canRead(cleared, "anything", "any-dept", true));
        assertFalse(Rights.canWrite(cleared, "anything", "any-dept", false));
        assertTrue(Rights.canWrite(finance, "kb", "finance", false));
        assertFalse(Rights.canWrite(finance, "kb", "hr", false));
    }

    @Test
    void adminsMayDoEverything() {
        assertTrue(Rights.canRead(admin, "x", "y", true));
        assertTrue(Rights.canWrite(admin, "x", "y", true));
    }
}
