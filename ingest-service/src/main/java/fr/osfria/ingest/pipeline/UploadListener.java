package fr.osfria.ingest.pipeline;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.events.document.DocumentUploaded;
import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.blob.BlobStore;
import fr.osfria.ingest.chunking.Chunk;
import fr.osfria.ingest.chunking.Chunker;
import fr.osfria.ingest.document.Document;
import fr.osfria.ingest.document.DocumentStatus;
import fr.osfria.ingest.document.service.DocumentService;
import fr.osfria.ingest.parsing.DocumentParser;
import fr.osfria.ingest.parsing.ParseFailure;
import fr.osfria.ingest.parsing.ParsedDocument;
import fr.osfria.security.messaging.EventMessages;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Turns an uploaded document into chunks: parse (off the I/O thread), chunk, publish the chunks keyed by
 * document id, record that they left. A parse failure marks the document failed with the reason.
 */
@ApplicationScoped
public class UploadListener {

    public static final String UPLOADS = "uploads";
    public static final String CHUNKS = "chunks";

    /** What parsing and chunking gave, or why they could not. */
    private record Outcome(List<Chunk> chunks, Integer pages, String error) {
    }

    private final DocumentParser parser;
    private final BlobStore blobs;
    private final DocumentService service;
    private final Chunker chunker;
    private final MutinyEmitter<String> chunks;
    private final Vertx vertx;

    public UploadListener(DocumentParser parser, BlobStore blobs, DocumentService service, IngestConfig config,
                          @Channel(CHUNKS) MutinyEmitter<String> chunks, Vertx vertx) {
        this.parser = parser;
        this.blobs = blobs;
        this.service = service;
        this.chunker = new Chunker(config.chunking().maxTokens(), config.chunking().overlapTokens());
        this.chunks = chunks;
        this.vertx = vertx;
    }

    @Incoming(UPLOADS)
    public Uni<Void> onUpload(String json) {
        DocumentUploaded upload = EventJson.decode(json, DocumentUploaded.class).data();
        return Panache.withSession(() -> Document.<Document>findById(upload.documentId())).chain(doc -> {
            if (doc == null || doc.contentVersion != upload.version() || doc.status != DocumentStatus.PROCESSING
                    || doc.chunkedAt != null) {
                return Uni.createFrom().voidItem(); // deleted, superseded, or already done: a redelivery
            }
            return vertx.executeBlocking(Uni.createFrom().item(() -> parseAndChunk(upload)))
                    .chain(outcome -> outcome.error() != null
                            ? service.failed(doc.id, upload.version(), outcome.error())
                            : publish(doc, upload, outcome.chunks())
                                    .chain(() -> service.chunked(doc.id, upload.version(), outcome.chunks().size(), outcome.pages())));
        });
    }

    private Outcome parseAndChunk(DocumentUploaded upload) {
        try {
            ParsedDocument parsed = parser.parse(blobs.path(upload.blobKey()), upload.filename());
            List<Chunk> result = chunker.chunk(parsed.blocks());
            if (result.isEmpty()) {
                return new Outcome(null, parsed.pages(), "the document contains no text (a scan without OCR?)");
            }
            return new Outcome(result, parsed.pages(), null);
        } catch (ParseFailure e) {
            Log.infof("document %s failed: %s", upload.documentId(), e.getMessage());
            return new Outcome(null, null, e.getMessage());
        } catch (RuntimeException e) {
            Log.errorf(e, "document %s could not be processed", upload.documentId());
            return new Outcome(null, null, "the document could not be processed");
        }
    }

    private Uni<Void> publish(Document doc, DocumentUploaded upload, List<Chunk> parts) {
        Map<String, Object> metadata = upload.metadata() == null ? Map.of() : upload.metadata();
        Object department = metadata.get("department");
        List<Uni<Void>> sends = parts.stream().map(c -> chunks.sendMessage(EventMessages.of(CloudEvent.of(
                DocumentService.SOURCE, EventTypes.DOCUMENT_CHUNKED, doc.id,
                new DocumentChunk(doc.id, upload.version(), chunkId(doc.id, upload.version(), c.ordinal()), c.ordinal(),
                        parts.size(), doc.collection, department instanceof String d ? d : null, doc.confidential, false,
                        c.page(), c.section(), c.text(), metadata))))).toList();
        return Uni.join().all(sends).andFailFast().replaceWithVoid();
    }

    /** Stable across redeliveries, so the index overwrites a chunk rather than adding it twice. */
    static String chunkId(String documentId, int version, int ordinal) {
        return "chunk_" + documentId.substring(4) + "_v" + version + "_" + ordinal;
    }
}
