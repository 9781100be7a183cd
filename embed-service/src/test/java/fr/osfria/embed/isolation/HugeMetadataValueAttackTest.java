package fr.osfria.embed.isolation;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.embed.FreshIndex;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The attack of issue 14: a chunk whose metadata holds one 40,000-character value, put on the chunks topic directly
 * (bypassing ingest's limits). It used to stop the chunk consumer for good (Lucene refuses terms over 32,766
 * bytes), turning health DOWN and leaving every later document unindexed. Now that record alone is dead-lettered
 * with the reason, its document fails with it, and the chunks next to it and after it are indexed.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(FreshIndex.class)
class HugeMetadataValueAttackTest {

    private static final String KB = "knowledge-base";
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    @Test
    void oneHugeMetadataValueFailsItsDocumentOnly() throws Exception {
        String poisoned = "doc_poison" + RUN;
        String neighbour = "doc_neigh" + RUN;
        String later = "doc_later" + RUN;
        try (TopicProbe results = TopicProbe.open(Topics.INDEX_RESULTS);
             TopicProbe deadLetters = TopicProbe.open(Topics.DOCUMENT_CHUNKS + ".dlq")) {
            // in one burst, so they share a poll: the neighbour must not fall with the poisoned chunk
            send(List.of(
                    chunk(poisoned, 0, 1, "Compte rendu du comité de direction.", Map.of("notes", "x".repeat(40_000))),
                    chunk(neighbour, 0, 1, "Le restaurant d'entreprise ouvre à midi.", Map.of("site", "Lyon"))));

            JsonNode failure = result(results, poisoned);
            assertFalse(failure.at("/data/success").asBoolean(), failure.toString());
            assertTrue(failure.at("/data/error").asText().contains("metadata value of 'notes' exceeds"), failure.toString());
            ConsumerRecord<String, String> dead = deadLetters.await(r -> poisoned.equals(r.key()), Duration.ofSeconds(30));
            assertTrue(new String(dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8)
                    .contains("exceeds"));
            assertTrue(result(results, neighbour).at("/data/success").asBoolean());

            // the consumer is still running: a document uploaded afterwards is indexed and found
            send(List.of(chunk(later, 0, 1, "La médiathèque prête des tablettes aux salariés.", Map.of())));
            assertTrue(result(results, later).at("/data/success").asBoolean());
        }
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body("{\"query\":\"tablettes médiathèque\",\"collection\":\"knowledge-base\",\"mode\":\"keyword\"}")
                .post("/v1/search").then().statusCode(200).body("results[0].document_id", equalTo(later));
        given().get("/q/health").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void aLargeDocumentReportsProgressBeforeItIsIndexed() throws Exception {
        String doc = "doc_large" + RUN;
        int total = 150; // more than one poll (64): the first batches are progress, the last the verdict
        try (TopicProbe results = TopicProbe.open(Topics.INDEX_RESULTS)) {
            send(java.util.stream.IntStream.range(0, total)
                    .mapToObj(i -> chunk(doc, i, total, "Paragraphe " + i + " du rapport annuel.", Map.of())).toList());
            JsonNode done = result(results, doc);
            assertTrue(done.at("/data/success").asBoolean(), done.toString());
            assertEquals(total, done.at("/data/chunksCount").asInt());
            List<JsonNode> progress = results.drain(Duration.ZERO).stream().filter(r -> doc.equals(r.key()))
                    .map(r -> read(r.value())).filter(e -> EventTypes.CHUNKS_PROGRESS.equals(e.path("type").asText())).toList();
            assertFalse(progress.isEmpty(), "no progress before the verdict");
            progress.forEach(p -> assertTrue(p.at("/data/chunksIndexed").asInt() > 0
                    && p.at("/data/chunksIndexed").asInt() < total && p.at("/data/totalChunks").asInt() == total, p.toString()));
        }
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("osfria_embed_chunks_indexed_total") && !l.endsWith(" 0.0")), metrics);
    }

    /** The verdict (not a progress report) on a document. */
    private static JsonNode result(TopicProbe results, String doc) {
        return read(results.await(r -> doc.equals(r.key())
                && EventTypes.CHUNKS_INDEXED.equals(read(r.value()).path("type").asText()), Duration.ofSeconds(90)).value());
    }

    private static JsonNode read(String json) {
        try {
            return EventJson.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static DocumentChunk chunk(String doc, int ordinal, int total, String text, Map<String, Object> metadata) {
        return new DocumentChunk(doc, 1, "chunk_" + doc.substring(4) + "_v1_" + ordinal, ordinal, total, KB, null, false, false,
                1, null, text, metadata, null);
    }

    private static void send(List<DocumentChunk> chunks) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
        props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (DocumentChunk c : chunks) {
                producer.send(new ProducerRecord<>(Topics.DOCUMENT_CHUNKS, c.documentId(), EventJson.encode(
                        CloudEvent.of("/osfria/test", EventTypes.DOCUMENT_CHUNKED, c.documentId(), c))));
            }
            producer.flush();
        }
    }
}
