package fr.osfria.security.rights;

import fr.osfria.security.key.KeyEntry;
import java.util.Collection;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

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

    public static boolean canWriteCollection(KeyEntry key, String collection) {
        return key.admin() || allows(key.writeCollections(), collection);
    }

    /**
     * Whether a key may write any document at all: an upload of a key that may not is refused from its headers,
     * before its body is received (which then costs nothing).
     */
    public static boolean canWriteSomething(KeyEntry key) {
        return key.admin() || !key.writeCollections().isEmpty();
    }

    /** Whether a key may read any collection, including ones not named in its grant (admins, and {@code *}). */
    public static boolean readsEveryCollection(KeyEntry key) {
        return key.admin() || key.readCollections().contains(KeyEntry.ALL);
    }

    /** Whether a key may write any collection, including ones not named in its grant (admins, and {@code *}). */
    public static boolean writesEveryCollection(KeyEntry key) {
        return key.admin() || key.writeCollections().contains(KeyEntry.ALL);
    }

    /**
     * The collections a key may read, as its holder may be told them ({@code GET /v1/me}): those its grant names, and
     * of the others, those where it can see a document ({@code withVisibleDocuments}: collections holding a document
     * that {@link #canRead} allows it). A collection where it could see nothing is not named: it does not exist for
     * the key, as everywhere else.
     */
    public static SortedSet<String> readableCollections(KeyEntry key, Collection<String> withVisibleDocuments) {
        SortedSet<String> names = named(key.readCollections());
        withVisibleDocuments.stream().filter(c -> canReadCollection(key, c)).forEach(names::add);
        return names;
    }

    /** The collections a key may write, as its holder may be told them: named in its grant, or readable and writable. */
    public static SortedSet<String> writableCollections(KeyEntry key, Collection<String> withVisibleDocuments) {
        SortedSet<String> names = named(key.writeCollections());
        withVisibleDocuments.stream().filter(c -> canReadCollection(key, c) && canWriteCollection(key, c)).forEach(names::add);
        return names;
    }

    private static SortedSet<String> named(List<String> granted) {
        SortedSet<String> names = new TreeSet<>(granted);
        names.remove(KeyEntry.ALL);
        return names;
    }

    /**
     * Whether {@code key} may have the file at {@code url} fetched for it: the URL is under one of the prefixes the
     * operator gave the key ({@link KeyEntry#fetchFrom}, matched by {@link UrlPrefix#covers}). No key has it by default,
     * admins included: it reaches into the network, not into the documents.
     */
    public static boolean canFetch(KeyEntry key, String url) {
        return key.fetchFrom() != null && key.fetchFrom().stream().anyMatch(p -> UrlPrefix.covers(p, url));
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
