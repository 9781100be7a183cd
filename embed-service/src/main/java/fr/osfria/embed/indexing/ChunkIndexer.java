package fr.osfria.embed.indexing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.embed.index.IndexHolder;
import fr.osfria.embed.index.IndexedChunk;
import fr.osfria.embed.index.VectorStore;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.document.ChunksIndexed;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.events.document.IndexingProgress;
import fr.osfria.events.document.VersionSuperseded;
import fr.osfria.security.messaging.EventMessages;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Embeds and indexes chunks a poll at a time: one durable commit per batch, then the batch is acknowledged, so a
 * crash can only make Kafka deliver chunks again (they overwrite themselves). When every chunk of a document
 * version is in, says so on the index-results topic. A record that cannot be indexed goes to the dead-letter
 * topic with the reason (its document version fails with it), and the rest of the batch and the consumer carry on;
 * only a failure of the store itself stops the consumer. {@code document.version-superseded} records, ordered with
 * the chunks of their document, retire its older versions (or all of them) for good: every chunk is checked against
 * those tombstones before it is embedded and again before it is written.
 */
@ApplicationScoped
public class ChunkIndexer {

    public static final String CHUNKS = "chunks";
    public static final String INDEX_RESULTS = "index-results";
    public static final String DEAD_LETTERS = "chunks-dead-letters";
    private static final String SOURCE = "/osfria/embed-service";

    private record Version(String documentId, int version, int totalChunks) {
    }

    private final VectorStore store;
    private final ChunkPreparer preparer;
    private final MutinyEmitter<String> results;
    private final MutinyEmitter<String> deadLetters;
    private final Counter indexedChunks;

    public ChunkIndexer(IndexHolder index, ChunkPreparer preparer, MeterRegistry metrics,
                        @Channel(INDEX_RESULTS) MutinyEmitter<String> results,
                        @Channel(DEAD_LETTERS) MutinyEmitter<String> deadLetters) {
        this.store = index.store();
        this.preparer = preparer;
        this.results = results;
        this.deadLetters = deadLetters;
        this.indexedChunks = Counter.builder("osfria.embed.chunks.indexed").description("chunks written to the index")
                .register(metrics);
        metrics.gauge("osfria.embed.index.chunks", store, s -> {
            try {
                return s.size();
            } catch (IOException e) {
                return Double.NaN;
            }
        });
    }

    /**
     * A chunk event, then ready for the store ({@code chunk}), with the record it came from (to dead-letter it alone
     * if the store refuses it).
     */
    private record Prepared(KafkaRecord<String, String> record, IndexedChunk chunk, DocumentChunk event) {
    }

    @Incoming(CHUNKS)
    @Blocking
    public CompletionStage<Void> onChunks(KafkaRecordBatch<String, String> batch) throws IOException {
        // each record read once: a retirement applied in its place, a chunk kept (unless malformed) for what follows
        List<Prepared> received = new ArrayList<>();
        for (KafkaRecord<String, String> record : batch.getRecords()) {
            DocumentChunk chunk = null;
            try {
                CloudEvent<JsonNode> event = EventJson.decode(record.getPayload(), JsonNode.class);
                if (EventTypes.VERSION_SUPERSEDED.equals(event.type())) {
                    Retirements.apply(store, data(event, VersionSuperseded.class));
                    continue;
                }
                chunk = data(event, DocumentChunk.class);
                ChunkPreparer.check(chunk);
                received.add(new Prepared(record, null, chunk));
            } catch (RuntimeException e) { // malformed or over the limits: this record alone is dropped
                reject(record, chunk == null ? null : chunk.documentId(), chunk == null ? 0 : chunk.version(), e.getMessage());
            }
        }
        Set<String> documents = received.stream().map(r -> r.event().documentId()).collect(Collectors.toSet());
        store.refreshFloors(documents); // one look for other replicas' retirements, not one per chunk
        // a late chunk of a deleted document or of a replaced version is never indexed (nor embedded)
        List<Prepared> wanted = new ArrayList<>();
        for (Prepared r : received) {
            DocumentChunk chunk = r.event();
            if (!store.retired(chunk.documentId(), chunk.version()) && !store.hasNewerVersion(chunk.documentId(), chunk.version())) {
                wanted.add(r);
            }
        }
        // the whole poll embedded together, whatever documents its chunks are of; each chunk's outcome is its own
        List<ChunkPreparer.Outcome> outcomes = preparer.prepareAll(wanted.stream().map(Prepared::event).toList());
        List<Prepared> chunks = new ArrayList<>();
        for (int i = 0; i < wanted.size(); i++) {
            Prepared r = wanted.get(i);
            ChunkPreparer.Outcome o = outcomes.get(i);
            if (o.error() == null) {
                chunks.add(new Prepared(r.record(), o.chunk(), r.event()));
            } else { // cannot be opened, or the model refuses it
                reject(r.record(), r.event().documentId(), r.event().version(), o.error().getMessage());
            }
        }
        // checked again: a retirement later in this batch (or from the fast path) outranks the chunks before it
        store.refreshFloors(documents);
        Map<String, Version> versions = new LinkedHashMap<>();
        List<Prepared> live = new ArrayList<>();
        for (Prepared p : chunks) {
            IndexedChunk c = p.chunk();
            if (!store.retired(c.documentId(), c.version())) {
                live.add(p);
                versions.merge(c.documentId(), new Version(c.documentId(), c.version(), c.totalChunks()),
                        (a, b) -> a.version() >= b.version() ? a : b);
            }
        }
        for (Version v : versions.values()) {
            store.deleteVersionsBefore(v.documentId(), v.version());
        }
        List<Prepared> current = live.stream()
                .filter(p -> versions.get(p.chunk().documentId()).version() == p.chunk().version()).toList();
        int stored = upsertIsolated(current);
        store.refreshFloors(versions.keySet());
        List<Version> written = new ArrayList<>();
        for (Version v : versions.values()) {
            if (store.retired(v.documentId(), v.version())) {
                // retired by the fast path while this batch was written: what was just written goes too
                store.deleteVersionsBefore(v.documentId(), v.version() + 1);
            } else {
                written.add(v);
            }
        }
        store.commit();
        indexedChunks.increment(stored);
        for (Version v : written) {
            int indexed = store.count(v.documentId(), v.version());
            if (indexed >= v.totalChunks()) {
                publish(new ChunksIndexed(v.documentId(), v.version(), indexed, true, null));
            } else if (indexed > 0) {
                // a large document takes minutes: say how far it is, so it shows progress rather than looking stuck
                results.sendMessageAndAwait(EventMessages.of(CloudEvent.of(SOURCE, EventTypes.CHUNKS_PROGRESS, v.documentId(),
                        new IndexingProgress(v.documentId(), v.version(), indexed, v.totalChunks()))));
            }
        }
        return batch.ack();
    }

    /** The data of an event read once as a tree; a record whose data is not a {@code type} is malformed. */
    private static <T> T data(CloudEvent<JsonNode> event, Class<T> type) {
        try {
            return EventJson.MAPPER.treeToValue(event.data(), type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new EventJson.MalformedEventException("not a CloudEvent with " + type.getSimpleName() + " data: " + e.getMessage());
        }
    }

    /**
     * Writes the batch in one call; if the store refuses it, chunk by chunk, so a chunk the store cannot take is
     * dead-lettered alone and the rest of the batch goes in. A store that refuses every chunk is failing itself:
     * that is thrown (the consumer stops, health DOWN) rather than throwing the chunks away. Returns how many went in.
     */
    private int upsertIsolated(List<Prepared> batch) throws IOException {
        try {
            store.upsert(batch.stream().map(Prepared::chunk).toList());
            return batch.size();
        } catch (IOException | RuntimeException e) {
            Log.warnf("the store refused a batch of %d chunks (%s); retrying them one by one", batch.size(), e.getMessage());
        }
        int stored = 0;
        Exception storeFailure = null;
        List<Prepared> refused = new ArrayList<>();
        for (Prepared p : batch) {
            try {
                store.upsert(List.of(p.chunk()));
                stored++;
            } catch (IllegalArgumentException e) {
                // the store says this chunk is invalid (an immense term, a wrong dimension): always the chunk's fault
                reject(p.record(), p.chunk().documentId(), p.chunk().version(), "the index refused the chunk: " + e.getMessage());
            } catch (IOException | RuntimeException e) {
                storeFailure = storeFailure == null ? e : storeFailure;
                refused.add(p);
            }
        }
        if (!refused.isEmpty() && stored == 0) {
            throw storeFailure instanceof IOException io ? io : new IOException("the index refused every chunk", storeFailure);
        }
        for (Prepared p : refused) {
            reject(p.record(), p.chunk().documentId(), p.chunk().version(), "the index refused the chunk");
        }
        return stored;
    }

    /** Sends the record to the dead-letter topic with the reason; its document version fails with that reason. */
    private void reject(KafkaRecord<String, String> record, String documentId, int version, String error) {
        // Lucene quotes the start of a refused term: the reason names the field, not the content
        String reason = String.valueOf(error).split(" The prefix of the first immense term")[0];
        reason = reason.length() > 300 ? reason.substring(0, 300) + "…" : reason;
        deadLetter(record, reason);
        if (documentId != null) {
            publish(new ChunksIndexed(documentId, version, 0, false, "a chunk could not be indexed: " + reason));
        }
    }

    private void publish(ChunksIndexed result) {
        results.sendMessageAndAwait(EventMessages.of(CloudEvent.of(SOURCE, EventTypes.CHUNKS_INDEXED, result.documentId(), result)));
    }

    private void deadLetter(KafkaRecord<String, String> record, String reason) {
        Log.warnf("chunk record %s sent to the dead-letter topic: %s", record.getKey(), reason);
        deadLetters.sendMessageAndAwait(EventMessages.deadLetter(record, reason));
    }
}
