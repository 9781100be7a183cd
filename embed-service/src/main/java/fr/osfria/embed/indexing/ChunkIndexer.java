package fr.osfria.embed.indexing;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.embed.index.IndexHolder;
import fr.osfria.embed.index.IndexedChunk;
import fr.osfria.embed.index.VectorStore;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.document.ChunksIndexed;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.security.messaging.EventMessages;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Embeds and indexes chunks a poll at a time: one durable commit per batch, then the batch is acknowledged, so a
 * crash can only make Kafka deliver chunks again (they overwrite themselves). When every chunk of a document
 * version is in, says so on the index-results topic. A record that cannot be indexed goes to the dead-letter
 * topic with the reason, and the consumer carries on. {@code document.version-superseded} records, ordered with the
 * chunks of their document, retire its older versions (or all of them) for good: every chunk is checked against
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

    public ChunkIndexer(IndexHolder index, ChunkPreparer preparer, MeterRegistry metrics,
                        @Channel(INDEX_RESULTS) MutinyEmitter<String> results,
                        @Channel(DEAD_LETTERS) MutinyEmitter<String> deadLetters) {
        this.store = index.store();
        this.preparer = preparer;
        this.results = results;
        this.deadLetters = deadLetters;
        metrics.gauge("osfria.embed.index.chunks", store, s -> {
            try {
                return s.size();
            } catch (IOException e) {
                return Double.NaN;
            }
        });
    }

    @Incoming(CHUNKS)
    @Blocking
    public CompletionStage<Void> onChunks(KafkaRecordBatch<String, String> batch) throws IOException {
        List<IndexedChunk> prepared = new ArrayList<>();
        for (KafkaRecord<String, String> record : batch.getRecords()) {
            DocumentChunk chunk = null;
            try {
                if (EventTypes.VERSION_SUPERSEDED.equals(EventJson.decode(record.getPayload(), JsonNode.class).type())) {
                    Retirements.apply(store, record.getPayload());
                    continue;
                }
                chunk = EventJson.decode(record.getPayload(), DocumentChunk.class).data();
                ChunkPreparer.check(chunk);
                if (store.retired(chunk.documentId(), chunk.version()) || store.hasNewerVersion(chunk.documentId(), chunk.version())) {
                    continue; // a late chunk of a deleted document or of a replaced version: never indexed
                }
                prepared.add(preparer.prepare(chunk));
            } catch (EventJson.MalformedEventException | IllegalArgumentException | GeneralSecurityException e) {
                deadLetter(record, e.getMessage());
                if (chunk != null && chunk.documentId() != null) {
                    publish(new ChunksIndexed(chunk.documentId(), chunk.version(), 0, false,
                            "a chunk could not be indexed: " + e.getMessage()));
                }
            }
        }
        // checked again: a retirement later in this batch (or from the fast path) outranks the chunks before it
        Map<String, Version> versions = new LinkedHashMap<>();
        List<IndexedChunk> live = new ArrayList<>();
        for (IndexedChunk c : prepared) {
            if (!store.retired(c.documentId(), c.version())) {
                live.add(c);
                versions.merge(c.documentId(), new Version(c.documentId(), c.version(), c.totalChunks()),
                        (a, b) -> a.version() >= b.version() ? a : b);
            }
        }
        for (Version v : versions.values()) {
            store.deleteVersionsBefore(v.documentId(), v.version());
        }
        store.upsert(live.stream().filter(c -> versions.get(c.documentId()).version() == c.version()).toList());
        List<Version> indexed = new ArrayList<>();
        for (Version v : versions.values()) {
            if (store.retired(v.documentId(), v.version())) {
                // retired by the fast path while this batch was written: what was just written goes too
                store.deleteVersionsBefore(v.documentId(), v.version() + 1);
            } else {
                indexed.add(v);
            }
        }
        store.commit();
        for (Version v : indexed) {
            int count = store.count(v.documentId(), v.version());
            if (count >= v.totalChunks()) {
                publish(new ChunksIndexed(v.documentId(), v.version(), count, true, null));
            }
        }
        return batch.ack();
    }

    private void publish(ChunksIndexed result) {
        results.sendMessageAndAwait(EventMessages.of(CloudEvent.of(SOURCE, EventTypes.CHUNKS_INDEXED, result.documentId(), result)));
    }

    private void deadLetter(KafkaRecord<String, String> record, String reason) {
        Log.warnf("chunk record %s sent to the dead-letter topic: %s", record.getKey(), reason);
        deadLetters.sendMessageAndAwait(EventMessages.deadLetter(record, reason));
    }
}
