package fr.osfria.embed.security;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.embed.FreshIndex;
import fr.osfria.embed.index.IndexHolder;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.events.document.VersionSuperseded;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A DELETE or a reclassifying PUT arrives while the document is still being parsed, or while embed-service lags
 * behind a backlog of chunks: the old chunks must be gone for the old audience at once, stay gone when the late
 * chunks are consumed, and stay gone if the new version fails. The test plays ingest-service on the real broker
 * (records keyed by document id, as it publishes them), the real model embeds, the real search answers.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(FreshIndex.class)
class LateChunksAttackTest {

    private static final String KB = "knowledge-base";
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    @Inject
    IndexHolder index;

    @Inject
    Envelope envelope;

    @Test
    void lateChunksOfADeletedDocumentNeverComeBack() throws Exception {
        String doc = "doc_del" + RUN;
        try (TopicProbe results = TopicProbe.open(Topics.INDEX_RESULTS)) {
            // the first chunks of a long document are in the index while the rest is still being parsed
            send(doc, chunk(doc, 1, 0, 6, "hr", "La réorganisation de l'atelier de Lyon commence en mars."));
            send(doc, chunk(doc, 1, 1, 6, "hr", "Le nouvel atelier ouvrira ses portes au printemps."));
            Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> found(TestKeys.HR, doc) == 2);

            // DELETE /v1/documents/{id}: what ingest-service publishes, on the chunks topic and the public one
            retire(doc, VersionSuperseded.deleted(doc));
            TopicProbe.send(Topics.PUBLIC_EVENTS, doc, EventJson.encode(CloudEvent.of("/osfria/test", EventTypes.DOCUMENT_DELETED, doc,
                    Map.of("documentId", doc, "collection", KB))));
            Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> found(TestKeys.ADMIN, doc, "hybrid") == 0);

            for (int i = 2; i < 6; i++) { // parsing ends: the late chunks arrive
                send(doc, chunk(doc, 1, i, 6, "hr", "Suite " + i + " du plan de réorganisation de l'atelier de Lyon."));
            }
            String marker = awaitEverythingBefore(results, doc);
            assertEquals(0, found(TestKeys.HR, doc), "a late chunk of a deleted document was indexed");
            assertEquals(0, found(TestKeys.ADMIN, doc));
            assertEquals(0, index.store().count(doc, 1));
            assertTrue(results.drain(Duration.ofMillis(200)).stream()
                    .noneMatch(r -> doc.equals(r.key()) && r.value().contains("\"success\":true")), "nor announced as indexed");
            assertTrue(found(TestKeys.ADMIN, marker) > 0, "the search itself works");
        }
    }

    @Test
    void aReclassifiedDocumentLeavesItsOldAudienceAtOnceEvenBehindABacklogAndWhenTheNewVersionFails() throws Exception {
        String doc = "doc_rec" + RUN;
        String filler = "doc_fil" + RUN;
        try (TopicProbe results = TopicProbe.open(Topics.INDEX_RESULTS)) {
            send(doc, chunk(doc, 1, 0, 3, "hr", "Les salaires de l'équipe logistique sont revus chaque année en janvier."));
            send(doc, chunk(doc, 1, 1, 3, "hr", "La grille des primes de la logistique dépend de l'ancienneté."));
            Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> found(TestKeys.HR, doc) == 2);

            // embed-service lags: a backlog of chunks on the document's partition, then the PUT that makes the
            // document confidential to finance
            int backlog = 150;
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.<String, Object>of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                    new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < backlog; i++) {
                    producer.send(new ProducerRecord<>(Topics.DOCUMENT_CHUNKS, doc, chunkEvent(
                            chunk(filler, 1, i, backlog, null, "Paragraphe " + i + " d'un long manuel de procédures internes."))));
                }
                producer.send(new ProducerRecord<>(Topics.DOCUMENT_CHUNKS, doc, EventJson.encode(CloudEvent.of("/osfria/test",
                        EventTypes.VERSION_SUPERSEDED, doc, new VersionSuperseded(doc, 2))))).get();
            }
            long put = System.currentTimeMillis();
            Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> found(TestKeys.HR, doc, "hybrid") == 0 && found(TestKeys.READER, doc, "hybrid") == 0);
            long hidden = System.currentTimeMillis();

            // a late chunk of the old version, then the new version, which fails (its chunk cannot be opened)
            send(doc, chunk(doc, 1, 2, 3, "hr", "Les augmentations de la logistique sont versées en février."));
            send(doc, new DocumentChunk(doc, 2, "chunk_" + doc.substring(4) + "_v2_0", 0, 1, KB, "finance", true, true, null, null,
                    Base64.getEncoder().encodeToString("not sealed".getBytes(StandardCharsets.UTF_8)),
                    Map.of("department", "finance", "confidential", true), envelope.wrap(envelope.newDataKey())));
            ConsumerRecord<String, String> fillerDone = results.await(r -> filler.equals(r.key())
                    && r.value().contains("\"success\":true"), Duration.ofSeconds(180));
            assertTrue(fillerDone.timestamp() > hidden, "the old version was hidden " + (hidden - put)
                    + " ms after the PUT, before the backlog in front of it was indexed");
            results.await(r -> doc.equals(r.key()) && r.value().contains("\"version\":2") && r.value().contains("\"success\":false"),
                    Duration.ofSeconds(60));
            awaitEverythingBefore(results, doc);

            for (String key : List.of(TestKeys.HR, TestKeys.READER, TestKeys.ADMIN)) {
                assertEquals(0, found(key, doc), "the old version came back");
            }
            assertEquals(0, index.store().count(doc, 1));
        }
    }

    /** Sends a chunk of another document on {@code key}'s partition and waits until it is indexed. */
    private static String awaitEverythingBefore(TopicProbe results, String key) {
        String marker = "doc_mrk" + UUID.randomUUID().toString().substring(0, 8);
        send(key, chunk(marker, 1, 0, 1, null, "Une note de service sans rapport."));
        results.await(r -> marker.equals(r.key()) && r.value().contains("\"success\":true"), Duration.ofSeconds(120));
        return marker;
    }

    /** How many chunks of {@code doc} the key's search can reach (every mode, a large top_k). */
    private static int found(String key, String doc) {
        return found(key, doc, "dense", "keyword", "hybrid");
    }

    private static int found(String key, String doc, String... modes) {
        int n = 0;
        for (String mode : modes) {
            n = Math.max(n, given().header("Authorization", TestKeys.bearer(key)).contentType(ContentType.JSON)
                    .body("{\"query\":\"atelier salaires logistique note\",\"collection\":\"" + KB + "\",\"top_k\":100,\"mode\":\""
                            + mode + "\",\"filters\":{\"document_id\":\"" + doc + "\"}}")
                    .post("/v1/search").then().statusCode(200).extract().<Integer>path("total_results"));
        }
        return n;
    }

    private static DocumentChunk chunk(String doc, int version, int ordinal, int total, String department, String text) {
        return new DocumentChunk(doc, version, "chunk_" + doc.substring(4) + "_v" + version + "_" + ordinal, ordinal, total, KB,
                department, false, false, 1, null, text, department == null ? Map.of() : Map.of("department", department), null);
    }

    private static void send(String key, DocumentChunk chunk) {
        TopicProbe.send(Topics.DOCUMENT_CHUNKS, key, chunkEvent(chunk));
    }

    private static String chunkEvent(DocumentChunk chunk) {
        return EventJson.encode(CloudEvent.of("/osfria/test", EventTypes.DOCUMENT_CHUNKED, chunk.documentId(), chunk));
    }

    /** What ingest-service puts on the chunks topic at a PUT or a DELETE, through its outbox. */
    private static void retire(String doc, VersionSuperseded record) {
        TopicProbe.send(Topics.DOCUMENT_CHUNKS, doc, EventJson.encode(CloudEvent.of("/osfria/test", EventTypes.VERSION_SUPERSEDED,
                doc, record)));
    }
}
