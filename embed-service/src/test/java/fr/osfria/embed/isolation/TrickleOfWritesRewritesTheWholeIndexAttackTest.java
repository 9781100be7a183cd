package fr.osfria.embed.isolation;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.embed.index.IndexedChunk;
import fr.osfria.embed.index.LuceneStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A neighbour of the idle compaction: small documents arriving one at a time, each after a pause. Every pause used
 * to merge the whole index into one segment again (477 s of a core for 100,000 chunks under load, and a rewrite of
 * every file), so a trickle of uploads kept the machine rewriting its index. Now a pause merges only once a tenth
 * of the index or more lies outside its largest segment.
 */
class TrickleOfWritesRewritesTheWholeIndexAttackTest {

    static final int DIM = 16;

    @TempDir
    Path dir;

    @Test
    void aSmallDocumentAfterAPauseLeavesTheIndexAsItIsUntilARewritePays() throws Exception {
        Random random = new Random(3);
        try (LuceneStore store = new LuceneStore(dir, "m", DIM,
                new LuceneStore.Compaction(Duration.ofMillis(200), Duration.ofSeconds(10)))) {
            write(store, random, "big-a", 100);
            write(store, random, "big-b", 100);
            await().atMost(Duration.ofSeconds(30)).until(() -> store.segmentCount() == 1); // two halves: worth merging

            write(store, random, "small", 3); // 3 chunks of 203, then pauses well past the idle delay
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> store.segmentCount() == 2);

            write(store, random, "more", 30); // 33 of 233 outside the largest segment: a rewrite pays again
            await().atMost(Duration.ofSeconds(30)).until(() -> store.segmentCount() == 1);
            assertEquals(233, store.size());
        }
    }

    /** One document of {@code chunks} chunks, committed: a segment, as the indexer leaves one per batch. */
    static void write(LuceneStore store, Random random, String document, int chunks) throws Exception {
        List<IndexedChunk> batch = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            batch.add(chunk(document, i, chunks, vector(random, DIM)));
        }
        store.upsert(batch);
        store.commit();
    }

    static IndexedChunk chunk(String document, int ordinal, int total, float[] vector) {
        return new IndexedChunk("chunk_" + document + "_" + ordinal, document, 1, ordinal, total, "kb", null, false, 1, null,
                "texte " + ordinal, null, Map.of(), vector, "texte " + ordinal, null);
    }

    static float[] vector(Random random, int dim) {
        float[] v = new float[dim];
        double norm = 0;
        for (int i = 0; i < dim; i++) {
            v[i] = (float) random.nextGaussian();
            norm += v[i] * v[i];
        }
        for (int i = 0; i < dim; i++) {
            v[i] /= (float) Math.sqrt(norm);
        }
        return v;
    }
}
