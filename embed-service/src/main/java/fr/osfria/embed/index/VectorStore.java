package fr.osfria.embed.index;

import java.io.Closeable;
import java.io.IOException;
import java.util.Collection;
import java.util.List;

/**
 * Where chunks and their vectors live: the embedded Lucene index on one machine, Qdrant on a cluster. Every
 * search carries the caller's rights in its {@link SearchQuery}; a store applies them inside the search.
 */
public interface VectorStore extends Closeable {

    /** Adds or replaces chunks by chunk id. */
    void upsert(Collection<IndexedChunk> chunks) throws IOException;

    /**
     * Retires a document's versions below {@code floor} for good ({@code VersionSuperseded.DELETED}: every version):
     * records a durable tombstone, then drops those chunks. From the moment it returns no search finds them, even
     * before {@link #commit()}, and {@link #retired} refuses them. Floors only rise; the call is idempotent.
     */
    void retire(String documentId, int floor) throws IOException;

    /**
     * Whether this version of the document lies below a tombstone's floor: its chunks must not be indexed. Answered
     * from memory; a store other processes write to learns their tombstones by {@link #refreshFloors}.
     */
    boolean retired(String documentId, int version) throws IOException;

    /**
     * Learns the tombstones other processes wrote for these documents (one query), before {@link #retired} is asked
     * about them. The Lucene store belongs to this process alone: it always knows them.
     */
    default void refreshFloors(Collection<String> documentIds) throws IOException {
    }

    /** Drops a document's chunks of versions before {@code version}. */
    void deleteVersionsBefore(String documentId, int version) throws IOException;

    /** Makes the writes so far durable and searchable. */
    void commit() throws IOException;

    /** Chunks of this version of the document that are searchable. */
    int count(String documentId, int version) throws IOException;

    boolean hasNewerVersion(String documentId, int version) throws IOException;

    /** Chunks in the store (tombstones are not chunks). */
    int size() throws IOException;

    List<SearchHit> search(SearchQuery query) throws IOException;

    /** Sealed chunks whose data key (and blind terms) are under another KEK than {@code kekId}. */
    int sealedOutside(String kekId) throws IOException;

    /**
     * Re-seals up to {@code max} of those chunks with {@code resealing}, skipping the chunk ids in {@code skip}; a
     * chunk it cannot re-seal (null) is added to {@code skip}. Writes are durable on return. Returns how many it wrote.
     */
    int reseal(String kekId, int max, java.util.Set<String> skip, Resealing resealing) throws IOException;

    /** Moves one sealed chunk to the active KEK; null when it cannot be opened. */
    @FunctionalInterface
    interface Resealing {
        IndexedChunk reseal(IndexedChunk sealed);
    }

    /** Whether the store ranks by keywords (BM25); one that does not answers keyword and hybrid modes densely. */
    default boolean ranksKeywords() {
        return true;
    }
}
