package fr.osfria.ingest.document.service;

import fr.osfria.ingest.audit.DurableAudit;
import fr.osfria.ingest.blob.BlobStore;
import fr.osfria.ingest.document.Document;
import fr.osfria.ingest.document.repository.DocumentRepository;
import fr.osfria.ingest.parsing.DocumentParser;
import fr.osfria.ingest.parsing.SupportedTypes;
import fr.osfria.ingest.pipeline.DocumentStages;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.SealedFields;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.rights.Rights;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.unchecked.Unchecked;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import javax.crypto.SecretKey;

/**
 * The upload of a new document, whoever brings it: a REST call ({@code POST /v1/documents}) or a Kafka application's
 * record ({@code osfria.app.NAME.documents.v1}). Rights, duplicate detection, storage (encrypted if confidential),
 * the row and its events, and the audit record are the same for both; only the answer's form differs.
 * A session (a database connection) is open only around its database steps, the caller's reused if it has one:
 * checking the file, waiting for room in the upload memory and storing the file hold none.
 */
@ApplicationScoped
public class DocumentUploads {

    /**
     * {@code RECORD_TAKEN}: a Kafka application's record read again, which already made its document (null when
     * the key may no longer read it, or the document was deleted since); nothing is stored or audited again.
     */
    public enum Outcome { ACCEPTED, DUPLICATE, DENIED, INVALID, RECORD_TAKEN }

    /** What became of an upload: the new (or duplicate) document, or why it was refused. */
    public record Result(Outcome outcome, Document document, InvalidUpload refusal) {
    }

    /**
     * What the upload learned from the bytes, off the I/O thread: its keyed hashes under every KEK of the keyring
     * ({@link ContentHash#candidates}), the active one (which is stored) first, so that a copy hashed before a KEK
     * rotation is still found; none without a KEK.
     */
    public record Inspected(String contentType, List<String> contentHmacs) {

        public String contentHmac() {
            return contentHmacs.isEmpty() ? null : contentHmacs.get(0);
        }
    }

    /** Where the file went, and its data key (clear, in memory) and wrapped data key when it is stored encrypted. */
    public record Stored(String blobKey, String wrappedKey, SecretKey dataKey) {
    }

    private final DurableAudit audit;
    private final DocumentRepository documents;
    private final DocumentService service;
    private final DocumentParser parser;
    private final BlobStore blobs;
    private final Vertx vertx;
    private final Envelope envelope;
    private final DocumentStages stages;
    private final UploadMemory memory;
    private final StorageQuota quota;

    public DocumentUploads(DurableAudit audit, DocumentRepository documents, DocumentService service,
                           DocumentParser parser, BlobStore blobs, Vertx vertx, Envelope envelope, DocumentStages stages,
                           fr.osfria.ingest.IngestConfig config, StorageQuota quota) {
        this.quota = quota;
        this.audit = audit;
        this.documents = documents;
        this.service = service;
        this.parser = parser;
        this.blobs = blobs;
        this.vertx = vertx;
        this.envelope = envelope;
        this.stages = stages;
        this.memory = new UploadMemory(config.uploadMemoryBytes().orElse(UploadMemory.defaultBytes()));
    }

    /** The heap budget of files held whole, shared by every upload. */
    public UploadMemory memory() {
        return memory;
    }

    /**
     * Uploads {@code upload} (validated by {@link Upload#of}) for {@code key}; {@code submission}: the Kafka record it
     * came in, null for REST. Audited whatever the outcome, but a record read again ({@link Outcome#RECORD_TAKEN}). {@code start}: when the request arrived (nanoTime).
     */
    public Uni<Result> upload(KeyEntry key, Upload upload, Submission submission, long start) {
        return recordTaken(key, submission).chain(taken -> taken != null ? Uni.createFrom().item(taken)
                : uploadNew(key, upload, submission, start));
    }

    /**
     * What the Kafka record {@code submission} already made ({@link Outcome#RECORD_TAKEN}), or null when it made no
     * document yet (null for REST). Only the application's own records are looked at, and the document is named only
     * while {@code key} may read it.
     */
    public Uni<Result> recordTaken(KeyEntry key, Submission submission) {
        if (submission == null) {
            return Uni.createFrom().nullItem();
        }
        return Panache.withSession(() -> documents.madeByRecord(submission.application(), submission.eventId()))
                .chain(made -> made == null ? Uni.createFrom().nullItem() : taken(key, submission, made.document()));
    }

    /**
     * A record read again. Its upload is audited again under the same event id as the first reading's: a no-op for
     * the audit store when that one was recorded, the upload's only trace when the first reading stopped between the
     * document's commit and its audit (a crash).
     */
    private Uni<Result> taken(KeyEntry key, Submission submission, Document doc) {
        boolean readable = doc != null && Rights.canRead(key, doc.collection, doc.department, doc.confidential);
        Result result = new Result(Outcome.RECORD_TAKEN, readable ? doc : null, null);
        return doc == null ? Uni.createFrom().item(result) : audited(key, submission, doc).replaceWith(result);
    }

    /** A stored upload's audit; a Kafka application's record's under an id derived from it (see {@link #taken}). */
    private Uni<Void> audited(KeyEntry key, Submission submission, Document doc) {
        String detail = DocumentService.publicName(doc);
        if (submission == null) {
            return audit.record(key.name(), "document.upload", doc.id, doc.collection, "ok", detail);
        }
        String id = java.util.UUID.nameUUIDFromBytes(("app-record\n" + submission.application() + "\n" + submission.eventId())
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
        return audit.recordOnce(id, key.name(), "document.upload", doc.id, doc.collection, "ok", detail);
    }

    private Uni<Result> uploadNew(KeyEntry key, Upload upload, Submission submission, long start) {
        if (upload.confidential() && !envelope.available()) {
            return refused(key, upload.collection(),
                    new InvalidUpload(503, "confidential documents need a key-encryption key: set OSFRIA_ENCRYPTION_KEK"));
        }
        if (!Rights.canWrite(key, upload.collection(), upload.department(), upload.confidential())) {
            return audit.record(key.name(), "document.upload", null, upload.collection(), "denied", null)
                    .replaceWith(new Result(Outcome.DENIED, null, null));
        }
        return inspect(upload).chain(inspected -> Panache.withSession(() -> documents.findReadableDuplicate(key,
                        upload.collection(), inspected.contentHmacs()))
                .chain(existing -> {
                    if (existing != null) {
                        return duplicate(key, existing); // stores nothing: within any quota
                    }
                    // no copy this key may read: store its own, whatever exists beyond its sight
                    String id = DocumentService.newId();
                    String blobKey = BlobStore.newKey(id, 1);
                    // a key past its storage quota writes nothing to disk (checked again when recorded)
                    return toTheEnd(quota.roomFor(key.name(), StorageQuota.charge(upload), null).chain(() -> storeBlob(key.name(), blobKey, upload))
                            .chain(stored -> service.create(id, sealed(id, upload, stored), inspected.contentType(),
                                            inspected.contentHmac(), inspected.contentHmacs(), stored.blobKey(),
                                            stored.wrappedKey(), key, submission)
                                    .onFailure().call(e -> unlessStored(e, id))
                                    .onFailure(CommitOutcomeUnknown.class).call(() -> auditedUnknown(key, submission, id,
                                            upload.collection())))
                            .call(doc -> audited(key, submission, doc))
                            .onTermination().invoke(() -> blobs.settled(blobKey)))
                            .invoke(() -> stages.record(DocumentStages.ACCEPTED, Duration.ofNanos(System.nanoTime() - start)))
                            .map(doc -> new Result(Outcome.ACCEPTED, doc, null))
                            // an upload of the same content committed first (this one sent again meanwhile)
                            .onFailure(SameContentStored.class).recoverWithUni(e -> duplicate(key, ((SameContentStored) e).existing))
                            // another reading of the same record committed its document first: that one it is
                            .onFailure(RecordTaken.class).invoke(e -> Log.infof("%s: stored by another reading of it",
                                    e.getMessage()))
                            .onFailure(RecordTaken.class).recoverWithUni(() -> Panache.withSession(() -> documents
                                    .madeByRecord(submission.application(), submission.eventId()))
                                    .chain(made -> taken(key, submission, made == null ? null : made.document())));
                }))
                .onFailure(InvalidUpload.class).recoverWithUni(e -> refused(key, upload.collection(), (InvalidUpload) e));
    }

    private Uni<Result> duplicate(KeyEntry key, Document existing) {
        return audit.record(key.name(), "document.upload", existing.id, existing.collection, "ok", "duplicate")
                .replaceWith(new Result(Outcome.DUPLICATE, existing, null));
    }

    /** An upload refused as invalid, audited as such ({@code collection} as the caller named it). */
    public Uni<Result> refused(KeyEntry key, String collection, InvalidUpload e) {
        return audit.record(key.name(), "document.upload", null, Upload.auditable(collection), "invalid", e.getMessage())
                .replaceWith(new Result(Outcome.INVALID, null, e));
    }

    public Uni<Inspected> inspect(Upload upload) {
        return blocking(Uni.createFrom().item(Unchecked.supplier(() -> {
            String type = parser.detect(upload.file(), upload.filename());
            if (type.endsWith("-protected")) {
                throw new InvalidUpload(422, "the document is password-protected");
            }
            if (!SupportedTypes.supported(type)) {
                throw new InvalidUpload(415, "unsupported type " + type);
            }
            return new Inspected(type, contentHmacs(upload));
        })));
    }

    /**
     * Runs an upload's blocking step (checking, storing or removing its file) on a worker thread of its own, not in
     * turn: Vert.x's default runs the blocking steps of every request of one event loop one after another, so one
     * file slow to store (large, or on a slow volume) held back about one upload in four, whoever sent it. One
     * upload's steps still run in order: each waits for the one before it in its own chain.
     */
    public <T> Uni<T> blocking(Uni<T> step) {
        return vertx.executeBlocking(step, false);
    }

    /**
     * Runs {@code work} to its end even if the client goes away: the request's chain is cancelled when its connection
     * closes, and a chain cut between writing a file and committing (or failing) its row left a file no document
     * references, one per aborted upload.
     */
    public static <T> Uni<T> toTheEnd(Uni<T> work) {
        return Uni.createFrom().emitter(emitter -> work.subscribe().with(emitter::complete, emitter::fail));
    }

    /**
     * Stores the original, pending for the orphan-file sweep until the caller settles it; a confidential one
     * encrypted under a new data key, bound to its blob key, in the upload memory's room as {@code keyName}'s.
     */
    public Uni<Stored> storeBlob(String keyName, String blobKey, Upload upload) {
        return blocking(Uni.createFrom().item(Unchecked.supplier(() -> {
            blobs.pending(blobKey);
            if (!upload.confidential()) {
                return new Stored(blobs.put(blobKey, upload.file()), null, null);
            }
            // read whole and encrypted: about twice the file in memory, within the budget of every upload together
            return memory.holding(keyName, 2 * upload.size(), () -> {
                SecretKey dataKey = envelope.newDataKey();
                byte[] sealed = Aead.encrypt(dataKey, Files.readAllBytes(upload.file()),
                        blobKey.getBytes(StandardCharsets.UTF_8));
                return new Stored(blobs.put(blobKey, sealed), envelope.wrap(dataKey), dataKey);
            });
        })));
    }

    /**
     * Removes the files of a document whose row was not stored; but when the connection was lost under the commit,
     * PostgreSQL may have committed: that file stays, and the orphan-file sweep removes it once the database answers
     * that no document holds it.
     */
    private Uni<Void> unlessStored(Throwable failure, String id) {
        return failure instanceof CommitOutcomeUnknown ? Uni.createFrom().voidItem() : discard(id);
    }

    /**
     * A REST upload whose commit's outcome is unknown is audited as such (it may be stored); a Kafka application's
     * record is read again until the database answers, and audited then.
     */
    private Uni<Void> auditedUnknown(KeyEntry key, Submission submission, String id, String collection) {
        if (submission != null) {
            return Uni.createFrom().voidItem();
        }
        return audit.record(key.name(), "document.upload", id, collection, "unknown",
                        "the connection to the database was lost while the upload was being committed")
                .onFailure().invoke(e -> Log.warnf("the upload of %s, its commit's outcome unknown, could not be audited: %s",
                        id, e.getMessage()))
                .onFailure().recoverWithNull();
    }

    public Uni<Void> discard(String id) {
        return blocking(Uni.createFrom().item(() -> {
            try {
                blobs.deleteDocument(id);
            } catch (RuntimeException e) {
                Log.warnf("could not remove the files of %s: %s", id, e.getMessage());
            }
            return null;
        })).replaceWithVoid();
    }

    /** A confidential upload's file name and metadata values sealed with its data key, as they are stored. */
    public static Upload sealed(String id, Upload upload, Stored stored) {
        if (stored.dataKey() == null) {
            return upload;
        }
        return upload.withStoredFields(SealedFields.sealFilename(stored.dataKey(), id, upload.filename()),
                SealedFields.sealMetadata(stored.dataKey(), id, upload.metadata()));
    }

    /**
     * Keyed hashes of the collection and the bytes under each KEK, active first, in one read; plain hashes are never
     * kept (they confirm guessed files).
     */
    private List<String> contentHmacs(Upload upload) throws IOException, GeneralSecurityException {
        if (!envelope.available()) {
            return List.of(); // without a KEK there is no key to hash with: no duplicate detection
        }
        try (InputStream in = Files.newInputStream(upload.file())) {
            return ContentHash.candidates(envelope, upload.collection(), in);
        }
    }
}
