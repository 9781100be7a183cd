package fr.osfria.embed.indexing;

import fr.osfria.embed.embedding.Embedder;
import fr.osfria.embed.index.BlindIndex;
import fr.osfria.embed.index.IndexHolder;
import fr.osfria.embed.index.IndexedChunk;
import fr.osfria.embed.index.LuceneStore;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.document.ChunksIndexed;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.messaging.EventMessages;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import javax.crypto.SecretKey;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Embeds and indexes chunks a poll at a time: one durable commit per batch, then the batch is acknowledged, so a
 * crash can only make Kafka deliver chunks again (they overwrite themselves). When every chunk of a document
 * version is in, says so on the index-results topic. A record that cannot be indexed goes to the dead-letter
 * topic with the reason, and the consumer carries on.
 */
@ApplicationScoped
public class ChunkIndexer {

    public static final String CHUNKS = "chunks";
    public static final String INDEX_RESULTS = "index-results";
    public static final String DEAD_LETTERS = "chunks-dead-letters";
    private static final String SOURCE = "/osfria/embed-service";

    private record Version(String documentId, int version, int totalChunks) {
    }

    private final LuceneStore store;
    private final Embedder embedder;
    private final Envelope envelope;
    private final MutinyEmitter<String> results;
    private final MutinyEmitter<String> deadLetters;
    private final Timer embedTimer;
    private BlindIndex blindIndex;

    public ChunkIndexer(IndexHolder index, Embedder embedder, Envelope envelope, MeterRegistry metrics,
                        @Channel(INDEX_RESULTS) MutinyEmitter<String> results,
                        @Channel(DEAD_LETTERS) MutinyEmitter<String> deadLetters) {
        this.store = index.store();
        this.embedder = embedder;
        this.envelope = envelope;
        this.results = results;
        this.deadLetters = deadLetters;
        this.embedTimer = Timer.builder("osfria.embed.embedding").description("time to embed one chunk").register(metrics);
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
        List<IndexedChunk> chunks = new ArrayList<>();
        Map<String, Version> versions = new LinkedHashMap<>();
        for (KafkaRecord<String, String> record : batch.getRecords()) {
            DocumentChunk chunk = null;
            try {
                chunk = EventJson.decode(record.getPayload(), DocumentChunk.class).data();
                check(chunk);
                if (store.hasNewerVersion(chunk.documentId(), chunk.version())) {
                    continue; // a late chunk of a replaced version
                }
                chunks.add(prepare(chunk));
                versions.merge(chunk.documentId(), new Version(chunk.documentId(), chunk.version(), chunk.totalChunks()),
                        (a, b) -> a.version() >= b.version() ? a : b);
            } catch (EventJson.MalformedEventException | IllegalArgumentException | GeneralSecurityException e) {
                deadLetter(record, e.getMessage());
                if (chunk != null && chunk.documentId() != null) {
                    publish(new ChunksIndexed(chunk.documentId(), chunk.version(), 0, false,
                            "a chunk could not be indexed: " + e.getMessage()));
                }
            }
        }
        for (Version v : versions.values()) {
            store.deleteVersionsBefore(v.documentId(), v.version());
        }
        List<IndexedChunk> current = chunks.stream()
                .filter(c -> versions.get(c.documentId()).version() == c.version()).toList();
        store.upsert(current);
        store.commit();
        for (Version v : versions.values()) {
            int indexed = store.count(v.documentId(), v.version());
            if (indexed >= v.totalChunks()) {
                publish(new ChunksIndexed(v.documentId(), v.version(), indexed, true, null));
            }
        }
        return batch.ack();
    }

    private static void check(DocumentChunk c) {
        if (c.chunkId() == null || c.documentId() == null || c.collection() == null || c.text() == null
                || c.text().isBlank() || c.totalChunks() < 1 || c.ordinal() < 0) {
            throw new IllegalArgumentException("chunk without id, document, collection, text or counts");
        }
        if (c.encrypted() && c.wrappedKey() == null) {
            throw new IllegalArgumentException("encrypted chunk without its wrapped key");
        }
    }

    /** Embeds the clear text; a confidential chunk is opened in memory, stored sealed, keyword-indexed blind. */
    private IndexedChunk prepare(DocumentChunk c) throws GeneralSecurityException {
        Map<String, Object> metadata = c.metadata() == null ? Map.of() : c.metadata();
        if (!c.encrypted()) {
            float[] vector = embed(c.text());
            String keywords = c.section() == null ? c.text() : c.section() + "\n" + c.text();
            return new IndexedChunk(c.chunkId(), c.documentId(), c.version(), c.ordinal(), c.totalChunks(), c.collection(),
                    c.department(), c.confidential(), c.page(), c.section(), c.text(), null, metadata, vector, keywords, null);
        }
        if (!envelope.available()) {
            throw new GeneralSecurityException("no key-encryption key configured (OSFRIA_ENCRYPTION_KEK)");
        }
        SecretKey dataKey = envelope.unwrap(c.wrappedKey());
        String clear = open(dataKey, c.text(), c.chunkId());
        String section = c.section() == null ? null : open(dataKey, c.section(), c.chunkId() + "#section");
        float[] vector = embed(clear);
        String blind = blind().terms(section == null ? clear : section + "\n" + clear);
        return new IndexedChunk(c.chunkId(), c.documentId(), c.version(), c.ordinal(), c.totalChunks(), c.collection(),
                c.department(), true, c.page(), c.section(), c.text(), c.wrappedKey(), metadata, vector, null, blind);
    }

    private float[] embed(String text) {
        return embedTimer.record(() -> embedder.passage(text));
    }

    private BlindIndex blind() {
        if (blindIndex == null) {
            blindIndex = new BlindIndex(envelope.derivedKey(BLIND_INDEX_PURPOSE));
        }
        return blindIndex;
    }

    /** The purpose string of the blind index key; search derives the same key. */
    public static final String BLIND_INDEX_PURPOSE = "osfria-blind-index-v1";

    static String open(SecretKey key, String sealed, String associatedData) throws GeneralSecurityException {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(sealed);
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("sealed text is not base64");
        }
        return new String(Aead.decrypt(key, raw, associatedData.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    private void publish(ChunksIndexed result) {
        results.sendMessageAndAwait(EventMessages.of(CloudEvent.of(SOURCE, EventTypes.CHUNKS_INDEXED, result.documentId(), result)));
    }

    private void deadLetter(KafkaRecord<String, String> record, String reason) {
        Log.warnf("chunk record %s sent to the dead-letter topic: %s", record.getKey(), reason);
        RecordHeaders headers = new RecordHeaders();
        headers.add("dead-letter-reason", String.valueOf(reason).getBytes(StandardCharsets.UTF_8));
        headers.add("dead-letter-topic", record.getTopic().getBytes(StandardCharsets.UTF_8));
        deadLetters.sendMessageAndAwait(Message.of(record.getPayload()).addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(record.getKey()).withHeaders(headers).build()));
    }
}
