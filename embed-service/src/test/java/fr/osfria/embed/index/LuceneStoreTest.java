package fr.osfria.embed.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.document.VersionSuperseded;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded store on its own, with vectors made for the test. */
class LuceneStoreTest {

    private static final int DIM = 16;

    @TempDir
    Path dir;

    private static float[] unit(Random random) {
        return QdrantScenarios.unit(random, DIM);
    }

    private static IndexedChunk chunk(String doc, int version, int ordinal, String department, float[] vector, String text) {
        return new IndexedChunk("chunk_" + doc + "_v" + version + "_" + ordinal, doc, version, ordinal, 1, "kb", department,
                false, 1, null, text, null, Map.of("lang", "fr"), vector, text, null);
    }

    @Test
    void writesSurviveARestartOnceCommitted() throws Exception {
        Random random = new Random(7);
        float[] v = unit(random);
        try (LuceneStore store = new LuceneStore(dir, "model-a", DIM)) {
            store.upsert(List.of(chunk("d1", 1, 0, null, v, "bonjour le monde")));
            store.commit();
        }
        try (LuceneStore reopened = new LuceneStore(dir, "model-a", DIM)) {
            assertEquals(1, reopened.size());
            List<SearchHit> hits = reopened.search(new SearchQuery("kb", null, false, Map.of(), SearchQuery.Mode.DENSE, v, null, null, 5));
            assertEquals("d1", hits.get(0).documentId());
            assertEquals(1.0f, hits.get(0).score(), 1e-4, "the same vector is at cosine 1");
        }
    }

    @Test
    void anIndexBuiltByAnotherModelIsRefused() throws Exception {
        try (LuceneStore store = new LuceneStore(dir, "model-a", DIM)) {
            store.upsert(List.of(chunk("d1", 1, 0, null, unit(new Random(1)), "x")));
            store.commit();
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new LuceneStore(dir, "model-b", DIM));
        assertTrue(e.getMessage().contains("built with model model-a"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> new LuceneStore(dir, "model-a", DIM * 2));
    }

    @Test
    void reindexingRebuildsEveryChunkForTheNewModel() throws Exception {
        Random random = new Random(11);
        try (LuceneStore store = new LuceneStore(dir, "model-a", DIM)) {
            store.upsert(List.of(chunk("d1", 1, 0, "finance", unit(random), "premier"), chunk("d2", 3, 0, null, unit(random), "second")));
            store.commit();
            store.retire("d2", VersionSuperseded.DELETED);
            store.upsert(List.of(chunk("d3", 1, 0, null, unit(random), "troisième")));
            store.commit();
        }
        float[] newVector = unit(random);
        int rebuilt = LuceneStore.reindex(dir, "model-b", DIM, s -> new IndexedChunk(s.chunkId(), s.documentId(), s.version(),
                s.ordinal(), s.totalChunks(), s.collection(), s.department(), s.confidential(), s.page(), s.section(), s.text(),
                s.wrappedKey(), s.metadata(), newVector, s.text(), null));
        assertEquals(2, rebuilt, "deleted chunks stay deleted");
        try (LuceneStore reopened = new LuceneStore(dir, "model-b", DIM)) {
            List<SearchHit> hits = reopened.search(new SearchQuery("kb", List.of(), false, Map.of(), SearchQuery.Mode.DENSE,
                    newVector, null, null, 10));
            assertEquals(List.of("d3"), hits.stream().map(SearchHit::documentId).toList(), "rights still apply: d1 is finance");
            assertEquals("troisième", hits.get(0).text());
            assertEquals(1, reopened.count("d1", 1));
            assertTrue(reopened.retired("d2", 3), "tombstones outlive a re-index");
        }
    }

    @Test
    void tombstonesHideChunksAtOnceAndOutliveARestart() throws Exception {
        Random random = new Random(5);
        float[] v = unit(random);
        try (LuceneStore store = new LuceneStore(dir, "m", DIM)) {
            store.upsert(List.of(chunk("d1", 1, 0, null, v, "ancienne version"), chunk("gone", 1, 0, null, v, "supprimé")));
            store.commit();
            store.retire("d1", 2);
            store.retire("gone", VersionSuperseded.DELETED);
            // not committed yet: still no search may return them
            assertEquals(List.of(), store.search(new SearchQuery("kb", null, false, Map.of(), SearchQuery.Mode.HYBRID, v,
                    "version supprimé", null, 10)), "retired chunks are gone from searches before the commit");
            store.retire("d1", 1);
            assertTrue(store.retired("d1", 1), "a floor never goes down");
            assertFalse(store.retired("d1", 2), "the new version may come");
            store.commit();
            assertEquals(0, store.size(), "tombstones are not chunks");
        }
        try (LuceneStore reopened = new LuceneStore(dir, "m", DIM)) {
            assertTrue(reopened.retired("d1", 1));
            assertFalse(reopened.retired("d1", 2));
            assertTrue(reopened.retired("gone", 7), "a deleted document refuses every version, after a restart too");
            assertFalse(reopened.retired("other", 1));
        }
    }

    @Test
    void hiddenDocumentsDoNotTakeResultSlots() throws Exception {
        Random random = new Random(3);
        float[] query = unit(random);
        try (LuceneStore store = new LuceneStore(dir, "m", DIM)) {
            List<IndexedChunk> chunks = new ArrayList<>();
            // fifty finance chunks right next to the query, five hr chunks further away
            for (int i = 0; i < 50; i++) {
                float[] near = query.clone();
                near[i % DIM] += 0.01f;
                chunks.add(chunk("fin" + i, 1, 0, "finance", near, "texte finance"));
            }
            for (int i = 0; i < 5; i++) {
                chunks.add(chunk("hr" + i, 1, 0, "hr", unit(random), "texte rh"));
            }
            store.upsert(chunks);
            store.commit();
            List<SearchHit> hits = store.search(new SearchQuery("kb", List.of("hr"), false, Map.of(), SearchQuery.Mode.DENSE,
                    query, null, null, 5));
            assertEquals(5, hits.size(), "the filter runs inside the search: all five permitted chunks come back");
            assertTrue(hits.stream().allMatch(h -> h.documentId().startsWith("hr")));
            assertEquals(5, store.search(new SearchQuery("kb", List.of("hr"), false, Map.of(), SearchQuery.Mode.HYBRID,
                    query, "texte", null, 10)).size());
            assertEquals(0, store.search(new SearchQuery("kb", List.of("hr"), false, Map.of("lang", List.of("en")),
                    SearchQuery.Mode.DENSE, query, null, null, 10)).size());
        }
    }

    @Test
    void aPauseInWritesMergesTheIndexIntoOneSegmentAndSearchesFindTheSame() throws Exception {
        Random random = new Random(11);
        float[] query = unit(random);
        try (LuceneStore store = new LuceneStore(dir, "m", DIM,
                new LuceneStore.Compaction(java.time.Duration.ofMillis(300), java.time.Duration.ofSeconds(10)))) {
            for (int commit = 0; commit < 3; commit++) { // a commit per batch, as the indexer does: a segment each
                List<IndexedChunk> chunks = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    chunks.add(chunk("d" + commit + "_" + i, 1, 0, null, unit(random), "texte " + commit));
                }
                store.upsert(chunks);
                store.commit();
            }
            store.retire("d0_0", Integer.MAX_VALUE); // a deletion: it must stay deleted through the merge
            store.commit();
            assertTrue(store.segmentCount() > 1, "three batches, three segments");
            List<String> before = store.search(new SearchQuery("kb", null, false, Map.of(), SearchQuery.Mode.DENSE, query,
                    null, null, 10)).stream().map(SearchHit::chunkId).toList();

            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> store.segmentCount() == 1);
            assertEquals(before, store.search(new SearchQuery("kb", null, false, Map.of(), SearchQuery.Mode.DENSE, query,
                    null, null, 10)).stream().map(SearchHit::chunkId).toList());
            assertEquals(59, store.size());
            assertTrue(store.retired("d0_0", 1));
        }
        try (LuceneStore reopened = new LuceneStore(dir, "m", DIM)) {
            assertEquals(1, reopened.segmentCount(), "the merged index was committed");
            assertEquals(59, reopened.size());
        }
    }
}
