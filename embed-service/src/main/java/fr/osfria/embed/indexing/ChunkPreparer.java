package fr.osfria.embed.indexing;

import fr.osfria.embed.embedding.Embedder;
import fr.osfria.embed.index.BlindIndex;
import fr.osfria.embed.index.IndexedChunk;
import fr.osfria.embed.index.MetadataTokens;
import fr.osfria.embed.index.StoredChunk;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.SealedFields;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.SecretKey;

/**
 * Turns a chunk event into what the index stores: its embedding, and its keyword terms (clear words, or keyed
 * hashes for a confidential chunk, which is opened in memory only). Used by indexing and by re-indexing. A sealed
 * chunk is always stored with its data key wrapped by the active KEK and its blind terms keyed by the same KEK, so
 * the KEK id in front of the wrapped key names both (what a re-seal after a rotation looks for).
 */
@ApplicationScoped
public class ChunkPreparer {

    /** The purpose string of the blind index key; search derives the same key. */
    public static final String BLIND_INDEX_PURPOSE = "osfria-blind-index-v1";

    private final Embedder embedder;
    private final Envelope envelope;
    private final Timer embedTimer;
    private final Map<String, BlindIndex> blindIndexes = new ConcurrentHashMap<>();
    private final Map<String, MetadataTokens> metadataTokens = new ConcurrentHashMap<>();

    public ChunkPreparer(Embedder embedder, Envelope envelope, MeterRegistry metrics) {
        this.embedder = embedder;
        this.envelope = envelope;
        this.embedTimer = Timer.builder("osfria.embed.embedding").description("time to embed one chunk").register(metrics);
    }

    /** A chunk read back from the index, as the event it came from. */
    public IndexedChunk prepare(StoredChunk s) throws GeneralSecurityException {
        return prepare(new DocumentChunk(s.documentId(), s.version(), s.chunkId(), s.ordinal(), s.totalChunks(), s.collection(),
                s.department(), s.confidential(), s.wrappedKey() != null, s.page(), s.section(), s.text(), s.metadata(),
                s.wrappedKey()));
    }

    /** Longest identifier, collection or department (bytes): each is one term of the index. */
    static final int MAX_NAME_BYTES = 512;
    /** Longest metadata value indexed as a filter term (bytes); Lucene refuses terms over 32,766. */
    static final int MAX_TERM_BYTES = 8_192;
    /** Longest chunk text or section (characters); ingest's chunks are a few thousand at most. */
    static final int MAX_TEXT_CHARS = 100_000;

    /**
     * What a chunk must be before it reaches the index: complete, and without a term the index would refuse.
     * Ingest bounds metadata at upload; this guards the index against whatever else reaches the topic.
     */
    static void check(DocumentChunk c) {
        if (c.chunkId() == null || c.documentId() == null || c.collection() == null || c.text() == null
                || c.text().isBlank() || c.totalChunks() < 1 || c.ordinal() < 0) {
            throw new IllegalArgumentException("chunk without id, document, collection, text or counts");
        }
        if (c.encrypted() && c.wrappedKey() == null) {
            throw new IllegalArgumentException("encrypted chunk without its wrapped key");
        }
        for (String name : new String[] {c.chunkId(), c.documentId(), c.collection(), c.department()}) {
            if (name != null && utf8Length(name) > MAX_NAME_BYTES) {
                throw new IllegalArgumentException("an id, collection or department exceeds " + MAX_NAME_BYTES + " bytes");
            }
        }
        if (c.text().length() > MAX_TEXT_CHARS || (c.section() != null && c.section().length() > MAX_TEXT_CHARS)) {
            throw new IllegalArgumentException("chunk text or section exceeds " + MAX_TEXT_CHARS + " characters");
        }
        if (c.metadata() != null) {
            c.metadata().forEach((key, value) -> {
                for (Object v : value instanceof java.util.List<?> list ? list : java.util.Collections.singletonList(value)) {
                    boolean term = v instanceof String || v instanceof Number || v instanceof Boolean; // as the store indexes them
                    if (term && utf8Length(String.valueOf(v)) > MAX_TERM_BYTES) {
                        throw new IllegalArgumentException("metadata value of '" + (key.length() > 40 ? key.substring(0, 40) + "…" : key)
                                + "' exceeds " + MAX_TERM_BYTES + " bytes");
                    }
                }
            });
        }
    }

    private static int utf8Length(String s) {
        return s.length() > MAX_TERM_BYTES * 4 ? Integer.MAX_VALUE : s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    /** What preparing one chunk gave: the chunk ready for the store, or why it cannot be indexed. */
    public record Outcome(IndexedChunk chunk, Exception error) {
    }

    /** A chunk with its clear text (a confidential one opened in memory), ready to be embedded. */
    private record Opened(DocumentChunk chunk, String clear, String section, SecretKey dataKey) {
    }

    /**
     * Embeds the clear text; a confidential chunk is opened in memory, stored sealed, keyword-indexed blind, its
     * sealed metadata values filter-indexed as keyed hashes.
     */
    public IndexedChunk prepare(DocumentChunk c) throws GeneralSecurityException {
        Outcome o = prepareAll(List.of(c)).get(0);
        if (o.error() instanceof GeneralSecurityException e) {
            throw e;
        }
        if (o.error() != null) {
            throw (RuntimeException) o.error();
        }
        return o.chunk();
    }

    /**
     * {@link #prepare(DocumentChunk)} for several chunks, their texts embedded together (in batches, see
     * {@link Embedder}); one outcome per chunk, in their order. A chunk that cannot be opened or embedded fails
     * alone: when a batch fails, its chunks are embedded one by one to find which.
     */
    public List<Outcome> prepareAll(List<DocumentChunk> chunks) {
        Outcome[] outcomes = new Outcome[chunks.size()];
        List<Integer> positions = new ArrayList<>();
        List<Opened> opened = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            try {
                opened.add(open(chunks.get(i)));
                positions.add(i);
            } catch (GeneralSecurityException | RuntimeException e) {
                outcomes[i] = new Outcome(null, e);
            }
        }
        List<String> texts = opened.stream().map(Opened::clear).toList();
        List<float[]> vectors = new ArrayList<>();
        List<RuntimeException> failures = new ArrayList<>();
        long start = System.nanoTime();
        try {
            vectors.addAll(texts.isEmpty() ? List.of() : embedder.passages(texts));
            texts.forEach(t -> failures.add(null));
        } catch (RuntimeException batchFailure) {
            for (String text : texts) { // find the text at fault; the others are embedded all the same
                try {
                    vectors.add(embedder.passage(text));
                    failures.add(null);
                } catch (RuntimeException e) {
                    vectors.add(null);
                    failures.add(e);
                }
            }
        }
        if (!texts.isEmpty()) { // the metric stays per chunk: a batch's time shared by its chunks
            java.time.Duration each = java.time.Duration.ofNanos((System.nanoTime() - start) / texts.size());
            texts.forEach(t -> embedTimer.record(each));
        }
        for (int k = 0; k < opened.size(); k++) {
            int i = positions.get(k);
            try {
                if (failures.get(k) != null) {
                    throw failures.get(k);
                }
                outcomes[i] = new Outcome(build(opened.get(k), vectors.get(k)), null);
            } catch (GeneralSecurityException | RuntimeException e) {
                outcomes[i] = new Outcome(null, e);
            }
        }
        return List.of(outcomes);
    }

    private Opened open(DocumentChunk c) throws GeneralSecurityException {
        if (!c.encrypted()) {
            return new Opened(c, c.text(), c.section(), null);
        }
        if (!envelope.available()) {
            throw new GeneralSecurityException("no key-encryption key configured (OSFRIA_ENCRYPTION_KEK)");
        }
        SecretKey dataKey = envelope.unwrap(c.wrappedKey());
        String clear = Aead.openText(dataKey, c.text(), c.chunkId());
        String section = c.section() == null ? null : Aead.openText(dataKey, c.section(), c.chunkId() + "#section");
        return new Opened(c, clear, section, dataKey);
    }

    private IndexedChunk build(Opened o, float[] vector) throws GeneralSecurityException {
        DocumentChunk c = o.chunk();
        Map<String, Object> metadata = c.metadata() == null ? Map.of() : c.metadata();
        if (!c.encrypted()) {
            String keywords = c.section() == null ? c.text() : c.section() + "\n" + c.text();
            return new IndexedChunk(c.chunkId(), c.documentId(), c.version(), c.ordinal(), c.totalChunks(), c.collection(),
                    c.department(), c.confidential(), c.page(), c.section(), c.text(), null, metadata, vector, keywords, null);
        }
        String blind = blind().terms(o.section() == null ? o.clear() : o.section() + "\n" + o.clear());
        return new IndexedChunk(c.chunkId(), c.documentId(), c.version(), c.ordinal(), c.totalChunks(), c.collection(),
                c.department(), true, c.page(), c.section(), c.text(), envelope.rewrap(c.wrappedKey()), metadata, vector,
                null, blind, sealedTerms(o.dataKey(), c.documentId(), metadata));
    }

    /** Filter terms of a confidential chunk: sealed values opened in memory and indexed as keyed hashes only. */
    private Map<String, List<String>> sealedTerms(SecretKey dataKey, String documentId, Map<String, Object> metadata)
            throws GeneralSecurityException {
        MetadataTokens tokens = metadataTokens(envelope.keyring().activeId());
        Map<String, List<String>> terms = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : metadata.entrySet()) {
            List<String> values = MetadataTokens.scalars(e.getValue());
            if (SealedFields.isSealed(e.getValue()) && !SealedFields.CLEAR_KEYS.contains(e.getKey())) {
                values = MetadataTokens.scalars(SealedFields.openValue(dataKey, documentId, e.getKey(), e.getValue())).stream()
                        .map(v -> tokens.token(e.getKey(), v)).toList();
            }
            if (!values.isEmpty()) {
                terms.put(e.getKey(), values);
            }
        }
        return terms;
    }

    /**
     * A sealed chunk of the index moved to the active KEK: its data key re-wrapped, its blind terms and metadata
     * filter hashes keyed anew (the text and values are opened in memory for that). The sealed text and the vector
     * stay as they are.
     */
    public IndexedChunk reseal(IndexedChunk c) throws GeneralSecurityException {
        SecretKey dataKey = envelope.unwrap(c.wrappedKey());
        String clear = Aead.openText(dataKey, c.text(), c.chunkId());
        String section = c.section() == null ? null : Aead.openText(dataKey, c.section(), c.chunkId() + "#section");
        Map<String, Object> metadata = c.metadata() == null ? Map.of() : c.metadata();
        return new IndexedChunk(c.chunkId(), c.documentId(), c.version(), c.ordinal(), c.totalChunks(), c.collection(),
                c.department(), c.confidential(), c.page(), c.section(), c.text(), envelope.rewrap(c.wrappedKey()),
                metadata, c.vector(), null, blind().terms(section == null ? clear : section + "\n" + clear),
                sealedTerms(dataKey, c.documentId(), metadata));
    }

    /** The blind terms of a query for chunks keyed by any KEK of the keyring (a rotation may be half done). */
    public String blindQueryTerms(String query) {
        StringBuilder terms = new StringBuilder();
        for (String kekId : envelope.keyring().ids()) {
            String t = blindIndexes.computeIfAbsent(kekId, this::newBlindIndex).queryTerms(query);
            terms.append(terms.isEmpty() || t.isEmpty() ? "" : " ").append(t);
        }
        return terms.toString();
    }

    /**
     * A cleared caller's metadata filters: each value also as its keyed hash under every KEK of the keyring, to reach
     * confidential chunks (whose values are indexed only as hashes), re-sealed or not.
     */
    public Map<String, List<String>> widenFilters(Map<String, List<String>> filters) {
        Map<String, List<String>> wide = filters;
        for (String kekId : envelope.keyring().ids()) {
            wide = metadataTokens(kekId).widen(wide, filters);
        }
        return wide;
    }

    private MetadataTokens metadataTokens(String kekId) {
        return metadataTokens.computeIfAbsent(kekId, id -> {
            try {
                return new MetadataTokens(envelope.keyedHash(id, MetadataTokens.LABEL));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
    }

    private BlindIndex blind() {
        return blindIndexes.computeIfAbsent(envelope.keyring().activeId(), this::newBlindIndex);
    }

    private BlindIndex newBlindIndex(String kekId) {
        try {
            return new BlindIndex(envelope.keyring().derive(kekId, BLIND_INDEX_PURPOSE));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }
}
