package fr.osfria.security.rights;

import fr.osfria.security.key.KeyEntry;
import java.util.List;

/**
 * What a key may do with documents. Admins may do everything. Otherwise a document is visible when its
 * collection is readable, its department (if it has one) is the key's, and, if confidential, the key is cleared.
 */
public final class Rights {

    public static boolean canRead(KeyEntry key, String collection, String department, boolean confidential) {
        return key.admin() || (allows(key.readCollections(), collection) && scopeOk(key, department, confidential));
    }

    public static boolean canWrite(KeyEntry key, String collection, String department, boolean confidential) {
        return key.admin() || (allows(key.writeCollections(), collection) && scopeOk(key, department, confidential));
    }

    public static boolean canReadCollection(KeyEntry key, String collection) {
        return key.admin() || allows(key.readCollections(), collection);
    }

    /** Whose inference usage a key may read: its own; admins every key's. */
    public static boolean canReadUsage(KeyEntry key, String keyName) {
        return key.admin() || key.name().equals(keyName);
    }

    private static boolean scopeOk(KeyEntry key, String department, boolean confidential) {
        return (department == null || department.isBlank() || allows(key.departments(), department))
                && (!confidential || key.confidential());
    }

    private static boolean allows(List<String> granted, String value) {
        return value != null && (granted.contains(KeyEntry.ALL) || granted.contains(value));
    }

    private Rights() {
    }
}
