package fr.osfria.embed.index;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Qdrant adapter against an in-process server built from the client's own gRPC stubs. */
class QdrantStoreTest {

    @Test
    void createsTheCollectionWithItsPayloadIndexesAndServesTheScenarios() throws Exception {
        try (InProcessQdrant qdrant = new InProcessQdrant();
             QdrantStore store = new QdrantStore(QdrantScenarios.config("localhost", qdrant.port(), "chunks"), "m", QdrantScenarios.DIM)) {
            assertTrue(qdrant.payloadIndexes.containsAll(List.of("document_id:FieldTypeKeyword", "collection:FieldTypeKeyword",
                    "department:FieldTypeKeyword", "version:FieldTypeInteger", "confidential:FieldTypeBool")), qdrant.payloadIndexes.toString());
            QdrantScenarios.lifecycleAndRights(store);
        }
    }

    @Test
    void tombstonesOutliveTheStore() throws Exception {
        try (InProcessQdrant qdrant = new InProcessQdrant()) {
            QdrantScenarios.tombstones(QdrantScenarios.config("localhost", qdrant.port(), "chunks"));
            assertTrue(qdrant.payloadIndexes.containsAll(List.of("tombstone_of:FieldTypeKeyword", "floor:FieldTypeInteger")),
                    qdrant.payloadIndexes.toString());
        }
    }

    @Test
    void aRetirementByAnotherReplicaIsKnownOnceItsDocumentsAreRefreshed() throws Exception {
        try (InProcessQdrant qdrant = new InProcessQdrant();
             QdrantStore one = new QdrantStore(QdrantScenarios.config("localhost", qdrant.port(), "chunks"), "m", QdrantScenarios.DIM);
             QdrantStore other = new QdrantStore(QdrantScenarios.config("localhost", qdrant.port(), "chunks"), "m", QdrantScenarios.DIM)) {
            one.retire("gone", Integer.MAX_VALUE);
            assertTrue(one.retired("gone", 1), "the replica that retired it knows at once");
            other.refreshFloors(List.of("gone", "unknown"));
            assertTrue(other.retired("gone", 7), "the other replica learns it from the collection");
            assertFalse(other.retired("unknown", 1));
            for (int i = 0; i < 5; i++) { // more tombstones than one page: the start reads them all
                one.retire("doc" + i, 2);
            }
            try (QdrantStore restarted = new QdrantStore(QdrantScenarios.config("localhost", qdrant.port(), "chunks"), "m",
                    QdrantScenarios.DIM, 2)) {
                assertTrue(restarted.retired("gone", 1));
                for (int i = 0; i < 5; i++) {
                    assertTrue(restarted.retired("doc" + i, 1), "doc" + i);
                    assertFalse(restarted.retired("doc" + i, 2), "doc" + i);
                }
            }
        }
    }

    @Test
    void aCollectionOfAnotherDimensionIsRefused() throws Exception {
        try (InProcessQdrant qdrant = new InProcessQdrant()) {
            new QdrantStore(QdrantScenarios.config("localhost", qdrant.port(), "chunks"), "m", QdrantScenarios.DIM).close();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new QdrantStore(QdrantScenarios.config("localhost", qdrant.port(), "chunks"), "bigger", 16));
            assertTrue(e.getMessage().contains("8-dimension"), e.getMessage());
        }
    }

    @Test
    void nothingConfidentialIsSentInClear() throws Exception {
        String canary = "CANARY" + System.nanoTime();
        try (InProcessQdrant qdrant = new InProcessQdrant();
             QdrantStore store = new QdrantStore(QdrantScenarios.config("localhost", qdrant.port(), "chunks"), "m", QdrantScenarios.DIM)) {
            // what embed-service stores for a confidential chunk: sealed text, section and metadata values, hashed
            // terms, and hashed metadata values to filter on
            IndexedChunk sealed = new IndexedChunk("chunk_x_v1_0", "doc_x", 1, 0, 1, "kb", "hr", true, 1, "U0VDVElPTg==",
                    "Q0lQSEVSVEVYVA==", "kek-1:d3JhcHBlZA==", Map.of("confidential", true, "project", "sealed:UFJPSkVU"),
                    QdrantScenarios.unit(new Random(1)), null, "9f86d081884c 7d865e959b24",
                    Map.of("confidential", List.of("true"), "project", List.of("h:5e884898da28047151d0e56f8dc62927")));
            store.upsert(List.of(sealed));
            // and a clear chunk carrying the canary, to prove the check sees what is sent
            store.upsert(List.of(QdrantScenarios.chunk("plain", 1, null, false, QdrantScenarios.unit(new Random(2)),
                    Map.of("note", canary))));
            String confidentialRequest = new String(qdrant.upserts.get(0).toByteArray(), StandardCharsets.ISO_8859_1);
            String plainRequest = new String(qdrant.upserts.get(1).toByteArray(), StandardCharsets.ISO_8859_1);
            assertFalse(confidentialRequest.contains("texte"), "no clear text field for a confidential chunk");
            assertTrue(confidentialRequest.contains("Q0lQSEVSVEVYVA=="), "the sealed text is what is sent");
            assertTrue(confidentialRequest.contains("h:5e884898da28047151d0e56f8dc62927"), "metadata filters on the hash");
            assertTrue(confidentialRequest.contains("sealed:UFJPSkVU"), "the stored metadata is the sealed value");
            assertTrue(plainRequest.contains(canary), "the request bytes are readable by this check");
        }
    }
}
