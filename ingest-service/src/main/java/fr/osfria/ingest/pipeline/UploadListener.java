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
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.SealedFields;
import fr.osfria.ingest.document.Document;
import fr.osfria.ingest.document.DocumentStatus;
import fr.osfria.ingest.document.service.DocumentService;
import fr.osfria.ingest.parsing.DocumentParser;
import fr.osfria.ingest.parsing.ParseFailure;
import fr.osfria.ingest.parsing.ParsedDocument;
import fr.osfria.security.messaging.EventMessages;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKey;
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
    /** Chunks of one document awaiting the broker at a time (two documents are processed at once: 128, the channel's buffer). */
    static final int SENDS_IN_FLIGHT = 64;

    /** What parsing and chunking gave, or why they could not; the data key when the document is confidential. */
    private record Outcome(List<Chunk> chunks, Integer pages, String error, SecretKey dataKey) {
        static Outcome failed(String error) {
            return new Outcome(null, null, error, null);
        }
    }

    private final DocumentParser parser;
    private final BlobStore blobs;
    private final DocumentService service;
    private final Chunker chunker;
    private final MutinyEmitter<String> chunks;
    private final Vertx vertx;
    private final Envelope envelope;
    private final DocumentStages stages;

    public UploadListener(DocumentParser parser, BlobStore blobs, DocumentService service, IngestConfig config,
                          @Channel(CHUNKS) MutinyEmitter<String> chunks, Vertx vertx, Envelope envelope, DocumentStages stages) {
        this.parser = parser;
        this.blobs = blobs;
        this.service = service;
        this.chunker = new Chunker(config.chunking().maxTokens(), config.chunking().overlapTokens());
        this.chunks = chunks;
        this.vertx = vertx;
        this.envelope = envelope;
        this.stages = stages;
    }

    @Incoming(UPLOADS)
    public Uni<Void> onUpload(String json) {
        DocumentUploaded upload = EventJson.decode(json, DocumentUploaded.class).data();
        // tried again, it finds its document already chunked and does nothing (or, cut before, re-sends the same chunk ids)
        return WhileDatabaseDown.retry("upload of " + upload.documentId(), () -> process(upload));
    }

    private Uni<Void> process(DocumentUploaded upload) {
        return Panache.withSession(() -> Document.<Document>findById(upload.documentId())).chain(doc -> {
            if (doc == null || doc.contentVersion != upload.version() || doc.status != DocumentStatus.PROCESSING
                    || doc.chunkedAt != null) {
                return Uni.createFrom().voidItem(); // deleted, superseded, or already done: a redelivery
            }
            boolean firstAttempt = doc.attempts == 1;
            Instant started = Instant.now();
            if (firstAttempt) {
                stages.record(DocumentStages.QUEUED, doc.uploadTime, started);
            }
            return vertx.executeBlocking(Uni.createFrom().item(() -> parseAndChunk(upload, doc.contentType, doc.wrappedKey)))
                    .chain(outcome -> {
                        if (outcome.error() != null) {
                            return service.failed(doc.id, upload.version(), outcome.error());
                        }
                        long parsed = System.nanoTime();
                        if (firstAttempt) {
                            stages.record(DocumentStages.PARSED, started, Instant.now());
                        }
                        return publish(doc, upload, outcome)
                                .chain(() -> service.chunked(doc.id, upload.version(), outcome.chunks().size(), outcome.pages()))
                                .invoke(() -> {
                                    if (firstAttempt) {
                                        stages.record(DocumentStages.PUBLISHED, Duration.ofNanos(System.nanoTime() - parsed));
                                    }
                                });
                    });
        });
    }

    private Outcome parseAndChunk(DocumentUploaded upload, String contentType, String wrappedKey) {
        try {
            SecretKey dataKey = null;
            ParsedDocument parsed;
            if (wrappedKey == null) {
                parsed = parser.parse(blobs.path(upload.blobKey()), upload.filename(), contentType);
            } else {
                // decrypted in memory only: the clear text of a confidential document never reaches a disk
                dataKey = envelope.unwrap(wrappedKey);
                byte[] clear = Aead.decrypt(dataKey, blobs.read(upload.blobKey()), upload.blobKey().getBytes(StandardCharsets.UTF_8));
                // the name (a hint for the type) travels sealed too
                parsed = parser.parse(clear, SealedFields.openFilename(dataKey, upload.documentId(), upload.filename()), contentType);
            }
            List<Chunk> result = chunker.chunk(parsed.blocks());
            if (result.isEmpty()) {
                return Outcome.failed("the document contains no text (a scan without OCR?)");
            }
            return new Outcome(result, parsed.pages(), null, dataKey);
        } catch (ParseFailure e) {
            Log.infof("document %s failed: %s", upload.documentId(), e.getMessage());
            return Outcome.failed(e.getMessage());
        } catch (GeneralSecurityException e) {
            Log.errorf("document %s cannot be decrypted: %s", upload.documentId(), e.getMessage());
            return Outcome.failed("the stored file cannot be decrypted (" + e.getMessage() + ")");
        } catch (IOException | RuntimeException e) {
            Log.errorf(e, "document %s could not be processed", upload.documentId());
            return Outcome.failed("the document could not be processed");
        }
    }

    /**
     * Sends the chunks with at most {@link #SENDS_IN_FLIGHT} awaiting the broker: all at once overflowed the
     * channel's buffer beyond about 1,150 chunks (1,024 in flight in the Kafka sink, 128 buffered), which failed
     * every large document; and each chunk is sealed and encoded only when its turn comes, so memory stays bounded.
     */
    private Uni<Void> publish(Document doc, DocumentUploaded upload, Outcome outcome) {
        List<Chunk> parts = outcome.chunks();
        // as stored: a confidential document's values are sealed, only department and confidential are clear
        Map<String, Object> metadata = upload.metadata() == null ? Map.of() : upload.metadata();
        Object department = metadata.get("department");
        boolean encrypt = outcome.dataKey() != null;
        return Multi.createFrom().iterable(parts).onItem().transformToUni(c -> {
            String id = chunkId(doc.id, upload.version(), c.ordinal());
            String text = encrypt ? Aead.sealText(outcome.dataKey(), c.text(), id) : c.text();
            // a heading can say as much as the text under it: sealed too, bound to the chunk
            String section = encrypt && c.section() != null ? Aead.sealText(outcome.dataKey(), c.section(), id + "#section") : c.section();
            return chunks.sendMessage(EventMessages.of(CloudEvent.of(DocumentService.SOURCE, EventTypes.DOCUMENT_CHUNKED, doc.id,
                    new DocumentChunk(doc.id, upload.version(), id, c.ordinal(), parts.size(), doc.collection,
                            department instanceof String d ? d : null, doc.confidential, encrypt, c.page(),
                            section, text, metadata, encrypt ? doc.wrappedKey : null))));
        }).merge(SENDS_IN_FLIGHT).collect().last().replaceWithVoid();
    }

    /** Stable across redeliveries, so the index overwrites a chunk rather than adding it twice. */
    static String chunkId(String documentId, int version, int ordinal) {
        return "chunk_" + documentId.substring(4) + "_v" + version + "_" + ordinal;
    }
}
