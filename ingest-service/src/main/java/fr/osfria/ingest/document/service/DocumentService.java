package fr.osfria.ingest.document.service;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.app.DocumentResult;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentDeleted;
import fr.osfria.events.document.DocumentFailed;
import fr.osfria.events.document.DocumentIndexed;
import fr.osfria.events.document.DocumentUploaded;
import fr.osfria.events.document.VersionSuperseded;
import fr.osfria.ingest.document.Document;
import fr.osfria.ingest.document.DocumentStatus;
import fr.osfria.ingest.document.repository.DocumentRepository;
import fr.osfria.security.error.DatabaseUnavailable;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.ingest.outbox.OutboxEvent;
import fr.osfria.ingest.outbox.OutboxRelay;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityNotFoundException;
import jakarta.persistence.LockModeType;
import org.hibernate.UnresolvableObjectException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * Document state changes. Each one writes the document row and the events it causes in one transaction
 * (outbox), then nudges the relay so the events leave at once. A document settling (indexed, failed), deleted or given a
 * new version is also announced to the requests waiting for it, in the same transaction.
 */
@ApplicationScoped
public class DocumentService {

    public static final String SOURCE = "/osfria/ingest-service";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String GONE = "the document was deleted or reclassified while this version was uploaded";

    private final DocumentRepository documents;
    private final OutboxRelay relay;
    private final StorageQuota quota;

    public DocumentService(DocumentRepository documents, OutboxRelay relay, StorageQuota quota) {
        this.documents = documents;
        this.relay = relay;
        this.quota = quota;
    }

    public static String newId() {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return "doc_" + HexFormat.of().formatHex(bytes);
    }

    /**
     * Records a new document (already stored as {@code blobKey}) and queues it for processing, for {@code key}'s upload ({@code submission}: the Kafka application's record that made it; null
     * for REST). Fails, recording nothing, with {@link RecordTaken} when its record already made a document, and with
     * {@link SameContentStored} when a copy of the same content that {@code key} may read was committed since the
     * caller looked for one ({@code contentHmacs}: the content's keyed hashes under each KEK): uploads of the same
     * content to one collection are recorded one after the other, each looking again for the other's copy, so that an
     * upload sent again while the first was still being stored makes one document, not two.
     */
    public Uni<Document> create(String id, Upload upload, String contentType, String contentHmac, List<String> contentHmacs,
                                String blobKey, String wrappedKey, KeyEntry key, Submission submission) {
        Instant now = now();
        Document doc = new Document();
        doc.id = id;
        doc.collection = upload.collection();
        doc.uploadedBy = key.name();
        if (submission != null) {
            doc.appName = submission.application();
            doc.appCorrelationId = submission.correlationId();
        }
        setContent(doc, upload, contentType, contentHmac, blobKey, wrappedKey, now);
        AtomicBoolean committing = new AtomicBoolean();
        // the key's storage first: the same content's lock (other keys' uploads of it wait on it) is held only once
        // this upload's turn among the key's has come
        return Panache.withTransaction(() -> take(submission, id)
                .chain(() -> quota.lock(key.name()))
                .chain(() -> noCopyCommittedMeanwhile(key, upload.collection(), contentHmac, contentHmacs))
                .chain(() -> quota.take(key.name(), StorageQuota.charge(doc.sizeBytes, doc.metadataJson), null))
                .chain(() -> documents.persist(doc))
                .chain(() -> OutboxEvent.of(Topics.DOCUMENT_UPLOADS, uploaded(doc)).persist())
                .chain(Panache::flush) // every statement answered: from here only the commit can fail
                .invoke(() -> committing.set(true))
                .replaceWith(doc))
                .onFailure(e -> committing.get() && DatabaseUnavailable.causes(e)).transform(CommitOutcomeUnknown::new)
                .call(this::nudge);
    }

    private Uni<Void> noCopyCommittedMeanwhile(KeyEntry key, String collection, String contentHmac, List<String> contentHmacs) {
        if (contentHmac == null) {
            return Uni.createFrom().voidItem(); // no KEK, no duplicate detection
        }
        return documents.lockSameContent(collection, contentHmac)
                .chain(() -> documents.findReadableDuplicate(key, collection, contentHmacs))
                .invoke(existing -> {
                    if (existing != null) {
                        throw new SameContentStored(existing);
                    }
                }).replaceWithVoid();
    }

    private Uni<Void> take(Submission submission, String id) {
        if (submission == null) {
            return Uni.createFrom().voidItem();
        }
        return documents.takeRecord(submission.application(), submission.eventId(), id).invoke(taken -> {
            if (!taken) {
                throw new RecordTaken(submission);
            }
        }).replaceWithVoid();
    }

    /** A new version recorded, and the file the row held before it (to remove: nothing references it any more). */
    public record Replaced(Document document, String previousBlobKey) {
    }

    /**
     * Replaces a document's content with a new version: its chunks will replace the old ones in the index. The row
     * is locked and read again here, so concurrent new versions of one document are recorded one after the other,
     * each numbered after the one committed before it. {@code mayWrite} is asked again on that row: a version
     * committed meanwhile may have moved the document out of the caller's reach (another department, confidential).
     */
    public Uni<Replaced> newVersion(String keyName, Document current, Predicate<Document> mayWrite, Upload upload,
                                    String contentType, String contentHmac, String blobKey, String wrappedKey) {
        // refreshed when the caller's session already holds the row (read before the upload: stale), found otherwise
        // (a REST new version reads it in a session of its own, closed since);
        // and not session.lock(): Hibernate Reactive's lock query names the version column by its field (rowVersion)
        // the key's storage first, the row after: the row (its pipeline updates wait on it) is held only once this
        // version's turn among the key's uploads has come
        return Panache.withTransaction(() -> quota.lock(keyName).chain(Panache::getSession)
                .chain(session -> session.contains(current)
                        ? session.refresh(current, LockModeType.PESSIMISTIC_WRITE).replaceWith(current)
                        : session.find(Document.class, current.id, LockModeType.PESSIMISTIC_WRITE))
                .onFailure(e -> e instanceof EntityNotFoundException || e instanceof UnresolvableObjectException)
                .transform(e -> new InvalidUpload(409, GONE))
                .chain(doc -> {
            if (doc == null || !mayWrite.test(doc)) {
                throw new InvalidUpload(409, GONE);
            }
            // the new content counts for the key that uploads it, in place of the old one if that was its own
            return quota.take(keyName, StorageQuota.charge(upload), doc)
                    .chain(() -> {
                String previous = doc.blobKey;
                doc.contentVersion++;
                doc.uploadedBy = keyName;
                // a Kafka application hears the outcome of what it submitted, not of a later version (another key's,
                // maybe out of its reach): that one is told by the public events
                doc.appName = null;
                doc.appCorrelationId = null;
                setContent(doc, upload, contentType, contentHmac, blobKey, wrappedKey, now());
                // the old chunks leave the index before the new version is even parsed (the old rights die with them)
                return superseded(new VersionSuperseded(doc.id, doc.contentVersion)).persist()
                        .chain(() -> OutboxEvent.of(Topics.DOCUMENT_UPLOADS, uploaded(doc)).persist())
                        // its waits read it again: the version they waited for will never settle
                        .call(() -> documents.announceChanged(doc.id))
                        .replaceWith(new Replaced(doc, previous));
            });
        })).call(this::nudge);
    }

    /**
     * Deletes the row and announces it: the index drops the chunks for good (even those still to come), receivers
     * hear {@code document.deleted}.
     */
    public Uni<Void> delete(Document doc) {
        CloudEvent<DocumentDeleted> event = CloudEvent.of(SOURCE, EventTypes.DOCUMENT_DELETED, doc.id,
                new DocumentDeleted(doc.id, publicName(doc), doc.collection, doc.department, doc.confidential));
        // a statement, not the entity: a status or progress update that lands between the caller's read and this
        // delete must not turn it into an optimistic-lock failure (500)
        return Panache.withTransaction(() -> documents.delete("id", doc.id)
                .chain(() -> superseded(VersionSuperseded.deleted(doc.id)).persist())
                .chain(() -> OutboxEvent.of(Topics.PUBLIC_EVENTS, event).persist())
                .call(() -> documents.announceChanged(doc.id)))
                .replaceWithVoid()
                .call(this::nudge);
    }

    /** The chunks of {@code version} are on their way to the index. */
    public Uni<Void> chunked(String id, int version, int chunks, Integer pages) {
        return Panache.withTransaction(() -> documents.findById(id).invoke(doc -> {
            if (doc != null && doc.contentVersion == version && doc.status == DocumentStatus.PROCESSING) {
                doc.chunkedAt = now();
                doc.updatedAt = doc.chunkedAt;
                doc.chunksCount = chunks;
                doc.pages = pages;
            }
        })).replaceWithVoid();
    }

    /**
     * embed-service's progress on {@code version}: how many chunks are in the index. Counts as progress for the
     * stalled-document sweep, so a large document is not restarted while it is being indexed. An update statement,
     * not the entity: it must not collide (optimistic lock) with the upload listener recording the chunks.
     */
    public Uni<Void> progress(String id, int version, int chunksIndexed) {
        return Panache.withTransaction(() -> documents.progress(id, version, chunksIndexed, now())).replaceWithVoid();
    }

    /**
     * embed-service's verdict on {@code version}; stale verdicts (older versions, finished documents) are ignored.
     * Answers the document once it is committed as indexed by this verdict, else null.
     */
    public Uni<Document> indexResult(String id, int version, boolean success, int chunks, String error) {
        return Panache.withTransaction(() -> documents.findById(id).chain(doc -> {
            if (doc == null || doc.contentVersion != version || doc.status != DocumentStatus.PROCESSING) {
                Log.debugf("ignoring index result for %s v%d", id, version);
                return Uni.createFrom().<Document>nullItem();
            }
            if (!success) {
                return fail(doc, error == null ? "indexing failed" : error).replaceWith((Document) null);
            }
            doc.status = DocumentStatus.INDEXED;
            doc.chunksCount = chunks;
            doc.chunksIndexed = chunks;
            doc.indexedAt = now();
            doc.updatedAt = doc.indexedAt;
            long processingMs = doc.indexedAt.toEpochMilli() - doc.uploadTime.toEpochMilli();
            return OutboxEvent.of(Topics.PUBLIC_EVENTS, CloudEvent.of(SOURCE, EventTypes.DOCUMENT_INDEXED, doc.id,
                    new DocumentIndexed(doc.id, publicName(doc), doc.collection, chunks, processingMs,
                            doc.department, doc.confidential))).persist()
                    .call(() -> applicationResult(doc, DocumentResult.INDEXED, null))
                    .call(() -> documents.announceChanged(doc.id))
                    .replaceWith(doc);
        })).call(this::nudge);
    }

    /** Marks {@code version} failed with a reason a person understands. */
    public Uni<Void> failed(String id, int version, String error) {
        return Panache.withTransaction(() -> documents.findById(id).chain(doc ->
                doc == null || doc.contentVersion != version || doc.status != DocumentStatus.PROCESSING
                        ? Uni.createFrom().voidItem() : fail(doc, error)))
                .call(this::nudge);
    }

    /** Restarts processing of a stalled document, or gives up on it after {@code maxAttempts}. */
    public Uni<Void> retryOrGiveUp(String id, int maxAttempts) {
        return Panache.withTransaction(() -> documents.findById(id).chain(doc -> {
            if (doc == null || doc.status != DocumentStatus.PROCESSING) {
                return Uni.createFrom().voidItem();
            }
            if (doc.attempts >= maxAttempts) {
                return fail(doc, "processing stalled: no result after " + doc.attempts + " attempts");
            }
            Log.warnf("document %s stalled; starting attempt %d", doc.id, doc.attempts + 1);
            doc.attempts++;
            doc.chunkedAt = null;
            doc.updatedAt = now();
            return OutboxEvent.of(Topics.DOCUMENT_UPLOADS, uploaded(doc)).persist().replaceWithVoid();
        })).call(this::nudge);
    }

    /** What an upload sets, for a new document and for a new version alike: its content starts processing afresh. */
    private static void setContent(Document doc, Upload upload, String contentType, String contentHmac, String blobKey,
                                   String wrappedKey, Instant now) {
        doc.filename = upload.filename();
        doc.department = upload.department();
        doc.confidential = upload.confidential();
        doc.metadataJson = EventJson.encodeMap(upload.metadata());
        doc.contentType = contentType;
        doc.sizeBytes = upload.size();
        doc.contentHmac = contentHmac;
        doc.blobKey = blobKey;
        doc.wrappedKey = wrappedKey;
        doc.status = DocumentStatus.PROCESSING;
        doc.error = null;
        doc.pages = null;
        doc.chunkedAt = null;
        doc.chunksIndexed = 0;
        doc.attempts = 1;
        doc.uploadTime = now;
        doc.updatedAt = now;
    }

    private Uni<Void> fail(Document doc, String error) {
        doc.status = DocumentStatus.FAILED;
        doc.error = error;
        doc.updatedAt = now();
        return OutboxEvent.of(Topics.PUBLIC_EVENTS, CloudEvent.of(SOURCE, EventTypes.DOCUMENT_FAILED, doc.id,
                new DocumentFailed(doc.id, publicName(doc), doc.collection, error, doc.department,
                        doc.confidential))).persist()
                .call(() -> applicationResult(doc, DocumentResult.FAILED, error))
                .call(() -> documents.announceChanged(doc.id))
                .replaceWithVoid();
    }

    /**
     * A Kafka application's document: its outcome, for its results topic, in the transaction of the status change
     * (the outbox relays it, so a crash cannot lose it). A new version (REST {@code PUT}) no longer reports there.
     */
    private static Uni<Void> applicationResult(Document doc, String status, String reason) {
        if (doc.appName == null) {
            return Uni.createFrom().voidItem();
        }
        return OutboxEvent.of(Topics.appResults(doc.appName), CloudEvent.of(SOURCE, DocumentResult.TYPE, doc.id,
                new DocumentResult(status, doc.appCorrelationId, doc.id, doc.collection, reason, null)))
                .persist().replaceWithVoid();
    }

    /**
     * The file name public events and audit details may carry: none for a confidential document (its name is
     * sealed; receivers identify it by its id).
     */
    public static String publicName(Document doc) {
        return doc.confidential ? null : doc.filename;
    }

    /** PostgreSQL keeps microseconds: answer with the time as it will read back. */
    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }

    private static CloudEvent<DocumentUploaded> uploaded(Document doc) {
        return CloudEvent.of(SOURCE, EventTypes.DOCUMENT_UPLOADED, doc.id, new DocumentUploaded(doc.id, doc.contentVersion,
                doc.collection, doc.filename, doc.blobKey, doc.sizeBytes, doc.confidential, EventJson.decodeMap(doc.metadataJson)));
    }

    /**
     * Retires a document's older chunks in the index, on the chunks topic under the document's key: ordered with its
     * chunks, so even chunks still in flight (or still being parsed) can never be indexed after it.
     */
    private static OutboxEvent superseded(VersionSuperseded retired) {
        return OutboxEvent.of(Topics.DOCUMENT_CHUNKS, CloudEvent.of(SOURCE, EventTypes.VERSION_SUPERSEDED, retired.documentId(), retired));
    }

    /** The events are committed; have them sent now rather than at the next relay tick, without waiting for Kafka. */
    private Uni<Void> nudge() {
        relay.nudge();
        return Uni.createFrom().voidItem();
    }
}
