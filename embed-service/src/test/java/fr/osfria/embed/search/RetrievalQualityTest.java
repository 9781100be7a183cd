package fr.osfria.embed.search;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.embed.FreshIndex;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.io.InputStream;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Retrieval quality on a small French and English corpus (test resource corpus/retrieval.json): each question
 * paraphrases one passage. hit@5 per mode is printed and asserted above floors set from what was measured.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(FreshIndex.class)
class RetrievalQualityTest {

    @Test
    void hitAtFiveForEachMode() throws Exception {
        JsonNode corpus;
        try (InputStream in = getClass().getResourceAsStream("/corpus/retrieval.json")) {
            corpus = EventJson.MAPPER.readTree(in);
        }
        String collection = "quality-" + UUID.randomUUID().toString().substring(0, 8);
        try (TopicProbe results = TopicProbe.open(Topics.INDEX_RESULTS)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = corpus.get("passages").fields(); it.hasNext(); ) {
                var passage = it.next();
                String doc = "doc_" + passage.getKey().replace("-", "_") + "_" + collection.substring(8);
                DocumentChunk chunk = new DocumentChunk(doc, 1, "chunk_" + doc.substring(4) + "_v1_0", 0, 1, collection, null,
                        false, false, 1, null, passage.getValue().asText(), Map.of("passage", passage.getKey()), null);
                TopicProbe.send(Topics.DOCUMENT_CHUNKS, doc, EventJson.encode(CloudEvent.of("/osfria/test",
                        EventTypes.DOCUMENT_CHUNKED, doc, chunk)));
            }
            int passages = corpus.get("passages").size();
            for (int i = 0; i < passages; i++) {
                results.await(r -> r.key().endsWith(collection.substring(8)) && r.value().contains(EventTypes.CHUNKS_INDEXED) && !seen(r.key()), Duration.ofSeconds(120));
            }
        }
        // hit@5 floors, one or two misses under what the built-in e5-small-v2 measured here (dense 16/16, keyword
        // 15/16, hybrid 16/16). Sixteen passages make an easy haystack: these floors catch a broken pipeline (wrong
        // prefixes, analyser, fusion or filters), not a small loss of model quality.
        Map<String, Double> floors = Map.of("dense", 0.9, "keyword", 0.8, "hybrid", 0.9);
        for (String mode : List.of("dense", "keyword", "hybrid")) {
            int hits = 0;
            for (JsonNode q : corpus.get("questions")) {
                List<String> top = given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                        .body(Map.of("query", q.get("q").asText(), "collection", collection, "top_k", 5, "mode", mode))
                        .post("/v1/search").then().statusCode(200).extract().path("results.metadata.passage");
                if (top.contains(q.get("answer").asText())) {
                    hits++;
                }
            }
            double hitAt5 = hits / (double) corpus.get("questions").size();
            System.out.printf("QUALITY %s hit@5 = %d/%d = %.2f%n", mode, hits, corpus.get("questions").size(), hitAt5);
            assertTrue(hitAt5 >= floors.get(mode), mode + " hit@5 " + hitAt5 + " under its floor " + floors.get(mode));
        }
    }

    private final java.util.Set<String> seenKeys = new java.util.HashSet<>();

    private boolean seen(String key) {
        return !seenKeys.add(key);
    }
}
