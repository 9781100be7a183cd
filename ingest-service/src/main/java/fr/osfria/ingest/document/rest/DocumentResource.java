package fr.osfria.ingest.document.rest;

import fr.osfria.events.EventJson;
import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.audit.DurableAudit;
import fr.osfria.ingest.blob.BlobStore;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.SealedFields;
import fr.osfria.ingest.document.Document;
import fr.osfria.ingest.document.DocumentStatus;
import fr.osfria.ingest.document.repository.DocumentRepository;
import fr.osfria.ingest.document.service.CommitOutcomeUnknown;
import fr.osfria.ingest.document.service.DocumentService;
import fr.osfria.ingest.document.service.DocumentUploads;
import fr.osfria.ingest.document.service.InvalidUpload;
import fr.osfria.ingest.document.service.StorageQuota;
import fr.osfria.ingest.document.service.Upload;
import fr.osfria.ingest.document.service.UploadPlaces;
import fr.osfria.ingest.document.wait.DocumentWaits;
import fr.osfria.security.error.DatabaseUnavailable;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import fr.osfria.security.rights.Caller;
import fr.osfria.security.rights.Rights;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.unchecked.Unchecked;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.crypto.SecretKey;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/**
 * Documents: upload, read (or wait for its indexing), list, new version, delete. A document the caller may not read
 * answers 404 exactly like an unknown one. Every call, allowed or not, is audited, but an upload refused because its
 * key (or the replica) has too many in progress ({@link UploadPlaces}) or because its body is not a well-formed form
 * (answered by the form parser, before this class is reached). Uploads are first decided on from their headers
 * ({@link UploadPlaceFilter}).
 */
@Path("/v1/documents")
@Produces(MediaType.APPLICATION_JSON)
public class DocumentResource {

    /** A wait shorter than this is not worth another round: the answer is given instead. */
    private static final long MIN_ROUND = TimeUnit.MILLISECONDS.toNanos(50);

    private final Caller caller;
    private final DurableAudit audit;
    private final DocumentRepository documents;
    private final DocumentService service;
    private final BlobStore blobs;
    private final IngestConfig config;
    private final Envelope envelope;
    private final DocumentUploads uploads;
    private final DocumentWaits waits;
    private final KeyRegistry keys;
    private final UploadPlaceFilter uploadPlaces;
    private final StorageQuota quota;

    public DocumentResource(Caller caller, DurableAudit audit, DocumentRepository documents, DocumentService service,
                            BlobStore blobs, IngestConfig config, Envelope envelope, DocumentUploads uploads,
                            DocumentWaits waits, KeyRegistry keys, UploadPlaceFilter uploadPlaces, StorageQuota quota) {
        this.quota = quota;
        this.caller = caller;
        this.audit = audit;
        this.documents = documents;
        this.service = service;
        this.blobs = blobs;
        this.config = config;
        this.envelope = envelope;
        this.uploads = uploads;
        this.waits = waits;
        this.keys = keys;
        this.uploadPlaces = uploadPlaces;
    }

    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @TakesUploadPlace
    public Uni<Response> upload(@RestForm("file") FileUpload file, @RestForm String collection, @RestForm String metadata,
                                RoutingContext request) {
        long start = System.nanoTime();
        KeyEntry key = caller.key();
        return inPlace(request, () -> upload(key, file, collection, metadata, start));
    }

    /**
     * {@code upload} in the place of {@link UploadPlaces} its request took before its body was read
     * ({@link UploadPlaceFilter}), now that the body is received; or refused at once past the replica's cap, or
     * skipped if its client already left. The place is given back when the upload's work ends, not when its client
     * leaves: a blocking step goes on after the request is cancelled, on its worker thread, and the work goes on until
     * it ends or fails. Its received file is removed when the request ends ({@code delete-uploaded-files-on-end}), so
     * the work of a client that left usually fails at its next step reading it: nothing is stored, and the place is
     * given back then. Begun when the answer is subscribed to, and the work subscribed to at once: no answer dropped
     * unsubscribed can hold a place. No session is open here: the upload opens one around each of its database steps
     * only, so that checking its file, waiting for room in the upload memory and storing the file hold no database
     * connection (held uploads of two keys took the whole pool), and a refusal needs none.
     */
    private Uni<Response> inPlace(RoutingContext request, Supplier<Uni<Response>> upload) {
        return Uni.createFrom().deferred(() -> {
            Response refused = uploadPlaces.start(request);
            if (refused != null) {
                return Uni.createFrom().item(refused);
            }
            return DocumentUploads.toTheEnd(Uni.createFrom().<Response>deferred(upload::get)
                    .onTermination().invoke(() -> uploadPlaces.release(request)));
        });
    }

    private Uni<Response> upload(KeyEntry key, FileUpload file, String collection, String metadata, long start) {
        Upload upload;
        try {
            upload = validate(file, collection, metadata);
        } catch (InvalidUpload e) {
            return refuse(key, "document.upload", null, collection, e);
        }
        // the same path as a Kafka application's record (appkafka): rights, duplicates, storage, audit
        return uploads.upload(key, upload, null, start).map(result -> switch (result.outcome()) {
            case ACCEPTED -> Response.accepted(view(result.document())).build();
            case DUPLICATE -> Response.ok(view(result.document())).header("X-Osfria-Duplicate", "true").build();
            case DENIED -> deniedResponse(upload.collection());
            case INVALID -> ErrorResponses.of(result.refusal().status(), result.refusal().getMessage(),
                    codeFor(result.refusal()));
            case RECORD_TAKEN -> throw new IllegalStateException("a REST upload comes in no Kafka record");
        }).onFailure(CommitOutcomeUnknown.class).recoverWithItem(() -> Response.fromResponse(ErrorResponses.of(503,
                "the connection to the database was lost while the upload was being committed: it may be stored;"
                        + " sent again, it is answered as the duplicate of the stored document if it was (without a"
                        + " key-encryption key there is no duplicate detection: list the collection first)",
                "database_unavailable")).header("Retry-After", DatabaseUnavailable.RETRY_AFTER_SECONDS).build());
    }

    /**
     * The document; with {@code wait} (1 to 30 s), answered once it is indexed or failed, or when that time has passed:
     * what it is then, to the key as it is then (revoked or narrowed meanwhile: 404). Rights are checked before
     * waiting, so another key's document answers 404 at once. A new version restarts the wait. No session (no
     * database connection) is held while waiting.
     */
    @GET
    @Path("/{id}")
    public Uni<Response> get(@PathParam("id") String id, @QueryParam("wait") String wait, @Context UriInfo uri) {
        KeyEntry key = caller.key();
        if (wait == null && uri.getQueryParameters().containsKey("wait")) {
            wait = ""; // "?wait=" reaches the method as no value at all: refused as the malformed value it is
        }
        if (wait == null) {
            return Panache.withSession(() -> visible(key, id)).chain(doc -> read(key, id, doc));
        }
        Integer seconds = waitSeconds(wait);
        if (seconds == null) {
            return refuse(key, "document.read", id, null, new InvalidUpload(400,
                    "'wait' is a whole number of seconds from 1 to " + DocumentWaits.MAX_SECONDS));
        }
        if (!isDocumentId(id)) {
            return notFound(key, "document.read", id); // not waited for: it takes no place in the caps
        }
        // registered before the read: a document settling between the two still wakes it. Null past a cap: the
        // request answers at once, as a plain read
        DocumentWaits.Wait pending = waits.open(key.name(), id);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        // the document the first read found, while its read is not audited yet
        AtomicReference<Document> unaudited = new AtomicReference<>();
        return Panache.withSession(() -> visible(key, id))
                .chain(doc -> {
                    if (pending == null || doc == null || doc.status != DocumentStatus.PROCESSING) {
                        return read(key, id, doc);
                    }
                    unaudited.set(doc);
                    return waitFor(pending, key, id, deadline, unaudited);
                })
                .onCancellation().invoke(() -> {
                    // the client left while waiting: what it learnt (the document exists, readable, processing) is
                    // audited all the same, to the end whatever happens to the request
                    Document doc = unaudited.getAndSet(null);
                    if (doc != null) {
                        audit.record(key.name(), "document.read", id, doc.collection, "ok", "the client left while waiting")
                                .subscribe().with(v -> { }, e -> Log.warnf("the read of %s left unanswered is not audited: %s",
                                        id, e.toString()));
                    }
                })
                .onTermination().invoke(() -> {
                    if (pending != null) {
                        pending.close();
                    }
                });
    }

    /**
     * Until {@code pending} is woken or {@code deadline} passes, then the document read again with the key as it is
     * now. Still processing (a new version was uploaded meanwhile) with time left: waits again.
     */
    private Uni<Response> waitFor(DocumentWaits.Wait pending, KeyEntry asked, String id, long deadline,
                                  AtomicReference<Document> unaudited) {
        long left = deadline - System.nanoTime();
        return pending.until(Duration.ofNanos(Math.max(left, TimeUnit.MILLISECONDS.toNanos(1)))).chain(() -> {
            // before the read: a change after it wakes the next round
            boolean again = pending.rearm();
            KeyEntry key = keys.active(asked.name()).orElse(null);
            if (key == null) { // revoked meanwhile: it learns no more, as for a document it may not read
                return answer(unaudited, notFound(asked, "document.read", id));
            }
            return Panache.withSession(() -> visible(key, id)).chain(doc -> again && doc != null
                    && doc.status == DocumentStatus.PROCESSING && deadline - System.nanoTime() > MIN_ROUND
                    ? waitFor(pending, key, id, deadline, unaudited)
                    : answer(unaudited, read(key, id, doc)));
        });
    }

    /** The answer of a wait, audited by {@code audited} to the end even if the client leaves meanwhile. */
    private static Uni<Response> answer(AtomicReference<Document> unaudited, Uni<Response> audited) {
        unaudited.set(null);
        return DocumentUploads.toTheEnd(audited);
    }

    private Uni<Response> read(KeyEntry key, String id, Document doc) {
        return doc == null
                ? notFound(key, "document.read", id)
                : audit.record(key.name(), "document.read", id, doc.collection, "ok", null)
                        .replaceWith(Response.ok(view(doc)).build());
    }

    /** {@code wait} in seconds, or null unless a whole number from 1 to {@link DocumentWaits#MAX_SECONDS}. */
    private static Integer waitSeconds(String wait) {
        if (!wait.matches("[0-9]{1,2}")) {
            return null;
        }
        int seconds = Integer.parseInt(wait);
        return seconds >= 1 && seconds <= DocumentWaits.MAX_SECONDS ? seconds : null;
    }

    @GET
    @WithSession
    public Uni<Response> list(@QueryParam("collection") String collection,
                              @QueryParam("offset") @DefaultValue("0") int offset,
                              @QueryParam("limit") @DefaultValue("50") int limit) {
        KeyEntry key = caller.key();
        if (collection == null || collection.isBlank()) {
            return refuse(key, "document.list", null, null, new InvalidUpload(400, "'collection' is required"));
        }
        if (!Upload.isCollectionName(collection)) {
            // no collection can have that name: answered as an unknown one, for every key (a NUL failed the query,
            // a long name the audit)
            return audit.record(key.name(), "document.list", null, null, "not_found", null)
                    .replaceWith(ErrorResponses.notFound("no collection of that name"));
        }
        if (offset < 0 || limit < 1 || limit > 500) {
            return refuse(key, "document.list", null, collection,
                    new InvalidUpload(400, "'offset' is 0 or more and 'limit' between 1 and 500"));
        }
        if (!Rights.canReadCollection(key, collection)) {
            return audit.record(key.name(), "document.list", null, collection, "not_found", null)
                    .replaceWith(ErrorResponses.notFound("no collection " + collection));
        }
        return documents.visiblePage(key, collection, offset, limit).chain(page ->
                audit.record(key.name(), "document.list", null, collection, "ok", page.documents().size() + " documents")
                        .replaceWith(Response.ok(new DocumentPage(page.documents().stream().map(this::view).toList(),
                                page.total(), offset, limit)).build()));
    }

    /** A new version of the document: its content, name and metadata are replaced, its old chunks dropped. */
    @PUT
    @Path("/{id}")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @TakesUploadPlace
    public Uni<Response> replace(@PathParam("id") String id, @RestForm("file") FileUpload file,
                                 @RestForm String collection, @RestForm String metadata, RoutingContext request) {
        KeyEntry key = caller.key();
        return inPlace(request, () -> replace(key, id, file, collection, metadata));
    }

    private Uni<Response> replace(KeyEntry key, String id, FileUpload file, String collection, String metadata) {
        // the row is read again, locked, in the new version's own transaction (DocumentService.newVersion)
        return Panache.withSession(() -> visible(key, id)).chain(doc -> {
            if (doc == null) {
                return notFound(key, "document.update", id);
            }
            Upload upload;
            try {
                upload = validate(file, collection == null || collection.isBlank() ? doc.collection : collection, metadata);
            } catch (InvalidUpload e) {
                return refuse(key, "document.update", id, doc.collection, e);
            }
            if (!upload.collection().equals(doc.collection)) {
                return refuse(key, "document.update", id, doc.collection,
                        new InvalidUpload(400, "a new version stays in its collection; upload to the other collection instead"));
            }
            if (!Rights.canWrite(key, doc.collection, doc.department, doc.confidential)
                    || !Rights.canWrite(key, upload.collection(), upload.department(), upload.confidential())) {
                return denied(key, "document.update", id, doc.collection);
            }
            // a file of its own: a concurrent new version of this document writes another one
            String blobKey = BlobStore.newKey(id, doc.contentVersion + 1);
            // a version refused before its commit (over the key's storage quota, the document gone) has its file
            // removed at once; one that failed otherwise is left to the orphan-file sweep, which removes it once the
            // database answers that no row holds it (a commit cut off may still have recorded it)
            // once recorded, the old file's removal and the audit record run to the end even if the client hangs up
            Uni<Document> recorded = quota.roomFor(key.name(), StorageQuota.charge(upload), doc).chain(() -> uploads.inspect(upload))
                    .chain(inspected -> DocumentUploads.toTheEnd(uploads.storeBlob(key.name(), blobKey, upload)
                            .chain(stored -> service.newVersion(key.name(), doc,
                                    row -> Rights.canWrite(key, row.collection, row.department, row.confidential),
                                    DocumentUploads.sealed(id, upload, stored), inspected.contentType(), inspected.contentHmac(),
                                    stored.blobKey(), stored.wrappedKey()))
                            .onFailure(InvalidUpload.class).call(() -> removeFile(blobKey))
                            .onTermination().invoke(() -> blobs.settled(blobKey))
                            // the file the row held until this commit (a concurrent version's, possibly): nothing reads it now
                            .call(replaced -> removeFile(replaced.previousBlobKey()))
                            .map((DocumentService.Replaced replaced) -> replaced.document())
                            .call(updated -> audit.record(key.name(), "document.update", id, updated.collection, "ok",
                                    "version " + updated.contentVersion))));
            return recorded.map(updated -> Response.accepted(view(updated)).build())
                    .onFailure(InvalidUpload.class).recoverWithUni(e -> refuse(key, "document.update", id, doc.collection,
                            (InvalidUpload) e));
        });
    }

    @DELETE
    @Path("/{id}")
    @WithSession
    public Uni<Response> delete(@PathParam("id") String id) {
        KeyEntry key = caller.key();
        return visible(key, id).chain(doc -> {
            if (doc == null) {
                return notFound(key, "document.delete", id);
            }
            if (!Rights.canWrite(key, doc.collection, doc.department, doc.confidential)) {
                return denied(key, "document.delete", id, doc.collection);
            }
            return DocumentUploads.toTheEnd(service.delete(doc).call(() -> uploads.discard(id))
                    .call(() -> audit.record(key.name(), "document.delete", id, doc.collection, "ok", DocumentService.publicName(doc))))
                    .replaceWith(Response.noContent().build());
        });
    }

    private Upload validate(FileUpload file, String collection, String metadata) {
        if (file == null) {
            throw new InvalidUpload(400, "the form has no 'file' part");
        }
        Upload upload = Upload.of(file.uploadedFile(), file.fileName(), file.size(), config.maxFileBytes(), collection, metadata);
        if (upload.confidential() && !envelope.available()) {
            throw new InvalidUpload(503, "confidential documents need a key-encryption key: set OSFRIA_ENCRYPTION_KEK");
        }
        return upload;
    }

    /** The document if it exists and the key may read it; null otherwise, whichever the reason. */
    private Uni<Document> visible(KeyEntry key, String id) {
        if (!isDocumentId(id)) {
            return Uni.createFrom().nullItem();
        }
        return documents.findById(id).map(doc ->
                doc != null && Rights.canRead(key, doc.collection, doc.department, doc.confidential) ? doc : null);
    }

    private static boolean isDocumentId(String id) {
        return id != null && id.matches("doc_[0-9a-f]{24}");
    }

    private Uni<Void> removeFile(String blobKey) {
        return uploads.blocking(Uni.createFrom().item(Unchecked.supplier(() -> {
            blobs.delete(blobKey);
            return null;
        }))).onFailure().recoverWithNull().replaceWithVoid();
    }

    /**
     * The document as its reader sees it: a confidential one's name and metadata opened in memory. Should they
     * not open (a KEK missing from the configuration), the sealed values are shown rather than nothing at all.
     */
    private DocumentView view(Document doc) {
        String filename = doc.filename;
        Map<String, Object> metadata = EventJson.decodeMap(doc.metadataJson);
        if (doc.wrappedKey != null) {
            try {
                SecretKey dataKey = envelope.unwrap(doc.wrappedKey);
                filename = SealedFields.openFilename(dataKey, doc.id, filename);
                metadata = SealedFields.openMetadata(dataKey, doc.id, metadata);
            } catch (GeneralSecurityException e) {
                Log.warnf("the name and metadata of %s cannot be opened: %s", doc.id, e.getMessage());
            }
        }
        return DocumentView.of(doc, filename, metadataView(doc, metadata));
    }

    private Uni<Response> notFound(KeyEntry key, String action, String id) {
        return audit.record(key.name(), action, id, null, "not_found", null)
                .replaceWith(ErrorResponses.notFound("no document " + id));
    }

    private Uni<Response> denied(KeyEntry key, String action, String id, String collection) {
        return audit.record(key.name(), action, id, collection, "denied", null).replaceWith(deniedResponse(collection));
    }

    private static Response deniedResponse(String collection) {
        return ErrorResponses.of(403, "this API key may not write to collection " + collection
                + " for that department or confidentiality", "forbidden");
    }

    private Uni<Response> refuse(KeyEntry key, String action, String id, String collection, InvalidUpload e) {
        return audit.record(key.name(), action, id, Upload.auditable(collection), "invalid", e.getMessage())
                .replaceWith(ErrorResponses.of(e.status(), e.getMessage(), codeFor(e)));
    }

    private static String codeFor(InvalidUpload refusal) {
        if (refusal.code() != null) {
            return refusal.code();
        }
        return switch (refusal.status()) {
            case 413 -> "file_too_large";
            case 415 -> "unsupported_type";
            case 422 -> "unreadable_document";
            case 503 -> "encryption_unavailable";
            case StorageQuota.STATUS -> "storage_quota_exceeded";
            default -> "invalid_request";
        };
    }

    private static Map<String, Object> metadataView(Document doc, Map<String, Object> userMetadata) {
        Map<String, Object> metadata = new LinkedHashMap<>(userMetadata);
        if (doc.department != null) {
            metadata.put("department", doc.department);
        }
        metadata.put("confidential", doc.confidential);
        if (doc.pages != null) {
            metadata.put("pages", doc.pages);
        }
        metadata.put("file_size", doc.sizeBytes);
        return metadata;
    }
}
