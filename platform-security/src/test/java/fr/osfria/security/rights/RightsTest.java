package fr.osfria.security.rights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.key.KeyEntry;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
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

    @Test
    void aKeyIsToldTheCollectionsItsGrantNamesAndThoseWhereItSeesADocument() {
        // "visible": the collections where each key can see at least one document (the caller asks the database)
        assertEquals(new TreeSet<>(List.of("kb")), Rights.readableCollections(finance, List.of("kb", "hr-only")));
        assertEquals(new TreeSet<>(List.of("kb")), Rights.readableCollections(finance, List.of()),
                "a collection the grant names is listed even while empty");
        assertEquals(new TreeSet<>(List.of("a", "b")), Rights.readableCollections(cleared, List.of("b", "a")),
                "with *, the collections where it sees something, never the * itself");
        assertEquals(new TreeSet<>(), Rights.writableCollections(cleared, List.of("a")), "reading all is not writing");
        KeyEntry writesAll = key(Set.of("user"), List.of("kb"), List.of("*"), List.of("*"), false);
        assertEquals(new TreeSet<>(List.of("kb")), Rights.writableCollections(writesAll, List.of("kb", "unreadable")),
                "a collection it may not read is not named, even if it may write there");
        assertTrue(Rights.writesEveryCollection(writesAll) && !Rights.readsEveryCollection(writesAll));
        assertEquals(new TreeSet<>(List.of("x", "y")), Rights.readableCollections(admin, List.of("y", "x")));
        assertTrue(Rights.readsEveryCollection(admin) && Rights.writesEveryCollection(admin));
    }
}
