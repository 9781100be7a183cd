package fr.osfria.embed.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.embed.EmbedConfig;
import fr.osfria.events.document.VersionSuperseded;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/** What the Qdrant adapter must do, run against the in-process stand-in and, where Docker exists, a real Qdrant. */
final class QdrantScenarios {

    static final int DIM = 8;

    static EmbedConfig.Qdrant config(String host, int port, String collection) {
        return new EmbedConfig.Qdrant() {
            public String host() {
                return host;
            }

            public int port() {
                return port;
            }

            public boolean tls() {
                return false;
            }

            public Optional<String> apiKey() {
                return Optional.empty();
            }

            public String collection() {
                return collection;
            }
        };
    }

    static float[] unit(Random random) {
        return unit(random, DIM);
    }

    /** A random unit vector of {@code dim} dimensions (test data for the stores). */
    static float[] unit(Random random, int dim) {
        float[] v = new float[dim];
        double n = 0;
        for (int i = 0; i < dim; i++) {
            v[i] = (float) random.nextGaussian();
            n += v[i] * v[i];
        }
        for (int i = 0; i < dim; i++) {
            v[i] /= (float) Math.sqrt(n);
        }
        return v;
    }

    static IndexedChunk chunk(String doc, int version, String department, boolean confidential, float[] v, Map<String, Object> meta) {
        return new IndexedChunk("chunk_" + doc + "_v" + version + "_0", doc, version, 0, 1, "kb", department, confidential, 2,
                "Section", confidential ? "c2VhbGVk" : "texte de " + doc, confidential ? "kek-1:wrapped" : null, meta, v,
                confidential ? null : "texte de " + doc, confidential ? "a1b2c3 d4e5f6" : null);
    }

    /** Idempotent upserts, versions, deletion, rights and filters inside the search. */
    static void lifecycleAndRights(QdrantStore store) throws Exception {
        Random random = new Random(9);
        float[] query = unit(random);
        List<IndexedChunk> finance = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            float[] near = query.clone();
            near[i % DIM] += 0.02f;
            finance.add(chunk("fin" + i, 1, "finance", false, near, Map.of("lang", "fr")));
        }
        store.upsert(finance);
        store.upsert(List.of(chunk("hr1", 1, "hr", false, unit(random), Map.of("lang", List.of("fr", "en"))),
                chunk("hr2", 1, "hr", false, unit(random), Map.of("lang", "en")),
                chunk("open", 1, null, false, unit(random), Map.of()),
                chunk("secret", 1, "hr", true, query.clone(), Map.of())));
        store.upsert(List.of(chunk("hr1", 1, "hr", false, unit(random), Map.of("lang", List.of("fr", "en")))));
        assertEquals(24, store.size(), "a chunk upserted twice is one point");

        List<SearchHit> hr = store.search(new SearchQuery("kb", List.of("hr"), false, Map.of(), SearchQuery.Mode.DENSE, query, null, null, 5));
        assertEquals(List.of("hr1", "hr2", "open"), hr.stream().map(SearchHit::documentId).sorted().toList(),
                "twenty nearer finance chunks and a confidential one take no place in HR's results");
        List<SearchHit> cleared = store.search(new SearchQuery("kb", List.of("hr"), true, Map.of(), SearchQuery.Mode.DENSE, query, null, null, 1));
        assertEquals("secret", cleared.get(0).documentId());
        assertTrue(cleared.get(0).confidential());
        assertEquals("kek-1:wrapped", cleared.get(0).wrappedKey());
        assertEquals(Map.of(), cleared.get(0).metadata());
        List<SearchHit> english = store.search(new SearchQuery("kb", null, false, Map.of("lang", List.of("en")), SearchQuery.Mode.DENSE,
                query, null, null, 50));
        assertEquals(List.of("hr1", "hr2"), english.stream().map(SearchHit::documentId).sorted().toList());
        assertTrue(store.search(new SearchQuery("other", null, true, Map.of(), SearchQuery.Mode.DENSE, query, null, null, 5)).isEmpty());

        store.upsert(List.of(chunk("hr2", 2, "hr", false, unit(random), Map.of())));
        assertTrue(store.hasNewerVersion("hr2", 1));
        store.deleteVersionsBefore("hr2", 2);
        assertEquals(0, store.count("hr2", 1));
        assertEquals(1, store.count("hr2", 2));
        store.retire("hr2", VersionSuperseded.DELETED);
        assertEquals(0, store.count("hr2", 2));
        assertFalse(store.hasNewerVersion("hr1", 1));
        assertEquals(23, store.size(), "tombstones are not chunks");
    }

    /** Tombstones: old versions leave, floors only rise, a deleted document refuses every version, from a new store too. */
    static void tombstones(EmbedConfig.Qdrant config) throws Exception {
        Random random = new Random(4);
        try (QdrantStore store = new QdrantStore(config, "m", DIM)) {
            store.upsert(List.of(chunk("old", 1, null, false, unit(random), Map.of()), chunk("gone", 3, null, false, unit(random), Map.of())));
            store.retire("old", 2);
            store.retire("gone", VersionSuperseded.DELETED);
            store.retire("old", 1);
            assertEquals(0, store.count("old", 1));
            assertEquals(0, store.count("gone", 3));
            assertTrue(store.search(new SearchQuery("kb", null, true, Map.of(), SearchQuery.Mode.DENSE, unit(random), null, null, 100))
                    .stream().noneMatch(h -> h.documentId().equals("old") || h.documentId().equals("gone")), "no tombstone is a hit");
        }
        try (QdrantStore reopened = new QdrantStore(config, "m", DIM)) {
            assertTrue(reopened.retired("old", 1), "a floor never goes down");
            assertFalse(reopened.retired("old", 2));
            assertTrue(reopened.retired("gone", 99));
            assertFalse(reopened.retired("other", 1));
        }
    }

    private QdrantScenarios() {
    }
}
