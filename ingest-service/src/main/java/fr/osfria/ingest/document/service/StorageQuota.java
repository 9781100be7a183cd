package fr.osfria.ingest.document.service;

import fr.osfria.events.EventJson;
import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.blob.BlobStore;
import fr.osfria.ingest.document.Document;
import fr.osfria.ingest.document.repository.DocumentRepository;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;

/**
 * Each key's storage quota ({@link IngestConfig.Storage}): what the documents whose content it uploaded cost, an
 * upload or a new version included, at most its quota. A document costs its file's size, at least
 * {@link #MIN_DOCUMENT_BYTES} (its row, its chunks in the index: a key of tiny documents is not free), plus its
 * metadata. And the files' volume keeps {@code storage.min-free}, whatever the keys' quotas. Checked twice: before the
 * file is stored (a key over its quota, or a volume nearly full, writes nothing to disk), and in the
 * transaction that records the document, under a lock of the key's taken before the document's row and the
 * same-content lock, so that a key's uploads at once cannot each fit alone and overshoot together. The sum reads each
 * of the key's documents (their metadata's length is not in the index): a running total per key would make it
 * constant for a key of very many documents.
 */
@ApplicationScoped
public class StorageQuota {

    public static final int STATUS = 507;
    /** What a document costs at least, whatever its file's size. */
    public static final long MIN_DOCUMENT_BYTES = 4096;

    private final IngestConfig config;
    private final DocumentRepository documents;
    private final BlobStore blobs;
    private final Vertx vertx;

    public StorageQuota(IngestConfig config, DocumentRepository documents, BlobStore blobs, Vertx vertx) {
        this.config = config;
        this.documents = documents;
        this.blobs = blobs;
        this.vertx = vertx;
    }

    /** What {@code upload}'s document costs its key (its metadata as stored in clear). */
    public static long charge(Upload upload) {
        return charge(upload.size(), EventJson.encodeMap(upload.metadata()));
    }

    /** What a document of {@code size} bytes with {@code metadataJson} (as stored) costs its key. */
    public static long charge(long size, String metadataJson) {
        return Math.max(size, MIN_DOCUMENT_BYTES) + metadataJson.getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * Refuses, before anything is stored, {@code charge} more bytes than {@code keyName} has room for, {@code replaced}
     * (a new version's document, or null) giving back its own when it counts for that key.
     */
    public Uni<Void> roomFor(String keyName, long charge, Document replaced) {
        // on a worker: a volume that hangs (network storage) must not hold the event loop
        return vertx.executeBlocking(Uni.createFrom().item(() -> {
            checkDisk(charge);
            return null;
        }), false).chain(() -> Panache.withSession(() -> documents.storedBy(keyName, MIN_DOCUMENT_BYTES)))
                .invoke(stored -> check(keyName, stored - freedBy(keyName, replaced), charge)).replaceWithVoid();
    }

    /**
     * Refuses an upload that would leave the files' volume with less than {@code storage.min-free}: on one machine it
     * is PostgreSQL's and Kafka's too, and a full disk stops them all; keys' quotas together may exceed the disk.
     */
    private void checkDisk(long size) {
        long usable;
        try {
            usable = blobs.usableBytes();
        } catch (java.io.IOException e) {
            return; // the file's own write will tell
        }
        if (usable - size < config.storage().minFree().asLongValue()) {
            throw new InvalidUpload(STATUS, "the platform's document storage is nearly full (" + usable + " bytes"
                    + " left, at least " + config.storage().minFree().asLongValue() + " kept free): uploads are refused"
                    + " until an operator makes room", "insufficient_storage");
        }
    }

    /**
     * Holds every other upload and new version of {@code keyName}'s until this transaction ends: taken before the
     * document's row and the same-content lock.
     */
    public Uni<Void> lock(String keyName) {
        return documents.lockStorageOf(keyName);
    }

    /** In a transaction that holds {@link #lock}: refuses as {@link #roomFor} ({@code replaced}: its row, locked). */
    public Uni<Void> take(String keyName, long charge, Document replaced) {
        long freed = freedBy(keyName, replaced);
        return documents.storedBy(keyName, MIN_DOCUMENT_BYTES).invoke(stored -> check(keyName, stored - freed, charge))
                .replaceWithVoid();
    }

    /** What {@code replaced}'s new version gives back to {@code keyName}: its cost, if that key uploaded its content. */
    private static long freedBy(String keyName, Document replaced) {
        return replaced != null && keyName.equals(replaced.uploadedBy) ? charge(replaced.sizeBytes, replaced.metadataJson) : 0;
    }

    private void check(String keyName, long stored, long charge) {
        long quota = quotaOf(keyName);
        if (stored + charge > quota) {
            throw new InvalidUpload(STATUS, "this key's storage quota is full: " + Math.max(0, stored) + " of " + quota
                    + " bytes taken, " + charge + " more asked (a document costs its size, at least "
                    + MIN_DOCUMENT_BYTES + " bytes, and its metadata); delete documents to make room");
        }
    }

    long quotaOf(String keyName) {
        var own = config.storage().keys().get(keyName);
        return (own != null ? own : config.storage().perKey()).asLongValue();
    }
}
