package fr.osfria.embed.indexing;

import fr.osfria.embed.embedding.Embedder;
import fr.osfria.embed.index.BlindIndex;
import fr.osfria.embed.index.IndexedChunk;
import fr.osfria.embed.index.StoredChunk;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.GeneralSecurityException;
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

    static void check(DocumentChunk c) {
        if (c.chunkId() == null || c.documentId() == null || c.collection() == null || c.text() == null
                || c.text().isBlank() || c.totalChunks() < 1 || c.ordinal() < 0) {
            throw new IllegalArgumentException("chunk without id, document, collection, text or counts");
        }
        if (c.encrypted() && c.wrappedKey() == null) {
            throw new IllegalArgumentException("encrypted chunk without its wrapped key");
        }
    }

    /** Embeds the clear text; a confidential chunk is opened in memory, stored sealed, keyword-indexed blind. */
    public IndexedChunk prepare(DocumentChunk c) throws GeneralSecurityException {
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
        String clear = Aead.openText(dataKey, c.text(), c.chunkId());
        String section = c.section() == null ? null : Aead.openText(dataKey, c.section(), c.chunkId() + "#section");
        float[] vector = embed(clear);
        String blind = blind().terms(section == null ? clear : section + "\n" + clear);
        return new IndexedChunk(c.chunkId(), c.documentId(), c.version(), c.ordinal(), c.totalChunks(), c.collection(),
                c.department(), true, c.page(), c.section(), c.text(), envelope.rewrap(c.wrappedKey()), metadata, vector,
                null, blind);
    }

    /**
     * A sealed chunk of the index moved to the active KEK: its data key re-wrapped, its blind terms keyed anew (the
     * text is opened in memory for that). The sealed text and the vector stay as they are.
     */
    public IndexedChunk reseal(IndexedChunk c) throws GeneralSecurityException {
        SecretKey dataKey = envelope.unwrap(c.wrappedKey());
        String clear = Aead.openText(dataKey, c.text(), c.chunkId());
        String section = c.section() == null ? null : Aead.openText(dataKey, c.section(), c.chunkId() + "#section");
        return new IndexedChunk(c.chunkId(), c.documentId(), c.version(), c.ordinal(), c.totalChunks(), c.collection(),
                c.department(), c.confidential(), c.page(), c.section(), c.text(), envelope.rewrap(c.wrappedKey()),
                c.metadata(), c.vector(), null, blind().terms(section == null ? clear : section + "\n" + clear));
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

    private float[] embed(String text) {
        return embedTimer.record(() -> embedder.passage(text));
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
