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

    /**
     * Whether {@code reader} may read everything {@code owner} may read or write: each of the owner's collections
     * (a {@code *} only through a {@code *}), in each of its departments, confidential ones if the owner is cleared.
     * What an application's events are about is its data; a key that could not read all of it does not get them.
     * An owner with no collection has no data to compare: only admins cover it.
     */
    public static boolean canReadAllOf(KeyEntry reader, KeyEntry owner) {
        if (reader.admin()) {
            return true;
        }
        if (owner.admin()) {
            return false;
        }
        java.util.Set<String> collections = new java.util.LinkedHashSet<>(owner.readCollections());
        collections.addAll(owner.writeCollections());
        return !collections.isEmpty()
                && collections.stream().allMatch(c -> allows(reader.readCollections(), c))
                && owner.departments().stream().allMatch(d -> allows(reader.departments(), d))
                && (!owner.confidential() || reader.confidential());
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
