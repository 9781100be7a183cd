package fr.osfria.embed.search;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.embed.FreshIndex;
import fr.osfria.embed.index.IndexHolder;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.events.document.VersionSuperseded;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.SealedFields;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The test plays ingest-service: chunks go in through the real broker, the real model embeds them. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(FreshIndex.class)
class SearchTest {

    /** What this class made the service export, for the k8s module's check of alert rules and dashboards. */
    @org.junit.jupiter.api.AfterAll
    static void saveExportedMetrics() {
        fr.osfria.testing.ExportedMetrics.save(SearchTest.class);
    }


    private static final String KB = "knowledge-base";
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final String EXPENSES = "doc_exp" + RUN;
    private static final String LEAVE = "doc_lea" + RUN;
    private static final String LAYOFFS = "doc_lay" + RUN;
    private static final String CANARY = "CANARY" + UUID.randomUUID().toString().replace("-", "");
    /** A metadata value of the confidential document, and one of an ordinary document (the scan's positive control). */
    private static final String META_CANARY = "CANARYMETA" + UUID.randomUUID().toString().replace("-", "");
    private static final String PLAIN_META = "PLAINMETA" + UUID.randomUUID().toString().replace("-", "");
    private static boolean indexed;

    @Inject
    Envelope envelope;

    @Inject
    IndexHolder index;

    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "osfria.embed.index-dir")
    Path indexDir;

    @BeforeEach
    void corpus() throws Exception {
        if (indexed) {
            return;
        }
        try (TopicProbe results = TopicProbe.open(Topics.INDEX_RESULTS)) {
            send(chunk(EXPENSES, 1, 0, 2, "finance", false, "Notes de frais",
                    "La procédure de remboursement des frais professionnels : le salarié remplit le formulaire et joint les justificatifs."));
            send(chunk(EXPENSES, 1, 1, 2, "finance", false, "Notes de frais",
                    "Les notes de frais dépassant 1 500 euros doivent être validées par le directeur financier."));
            DocumentChunk leave = chunk(LEAVE, 1, 0, 1, "hr", false, "Congés",
                    "Les congés payés se posent dans l'outil RH au moins deux semaines à l'avance.");
            send(new DocumentChunk(leave.documentId(), 1, leave.chunkId(), 0, 1, KB, "hr", false, false, 1, leave.section(),
                    leave.text(), Map.of("department", "hr", "project", PLAIN_META), null));
            send(sealed(LAYOFFS, "finance", "Plan de départs",
                    "Le plan social prévoit la suppression de quarante postes. Code projet " + CANARY + "."));
            for (String doc : List.of(EXPENSES, LEAVE, LAYOFFS)) {
                JsonNode r = EventJson.MAPPER.readTree(results.await(rec -> doc.equals(rec.key()) && rec.value().contains(EventTypes.CHUNKS_INDEXED), Duration.ofSeconds(90)).value());
                assertTrue(r.at("/data/success").asBoolean(), r.toString());
            }
        }
        indexed = true;
    }

    @Test
    void eachModeFindsThePassageThatAnswers() {
        for (String mode : List.of("dense", "keyword", "hybrid")) {
            search(TestKeys.FINANCE, "{\"query\":\"Comment se faire rembourser ses frais professionnels ?\",\"collection\":\"knowledge-base\",\"mode\":\"" + mode + "\"}")
                    .statusCode(200)
                    .body("results[0].document_id", equalTo(EXPENSES))
                    .body("results[0].metadata.section", equalTo("Notes de frais"))
                    .body("results[0].content", org.hamcrest.Matchers.containsString("remboursement"));
        }
        search(TestKeys.FINANCE, "{\"query\":\"frais\",\"collection\":\"knowledge-base\",\"top_k\":1}")
                .statusCode(200).body("results.size()", equalTo(1)).body("total_results", equalTo(1));
        search(TestKeys.FINANCE, "{\"query\":\"frais\",\"collection\":\"knowledge-base\",\"score_threshold\":0.99}")
                .statusCode(200).body("results", empty());
    }

    @Test
    void rightsAreInsideTheQuery() {
        // HR may not see finance documents: they neither appear nor take the place of a result
        // (among the departments of this corpus: other test classes share the index and add documents of no department)
        search(TestKeys.HR, "{\"query\":\"remboursement des frais\",\"collection\":\"knowledge-base\",\"top_k\":100,"
                + "\"filters\":{\"department\":[\"hr\",\"finance\"]}}")
                .statusCode(200).body("results.document_id", not(hasItem(EXPENSES)))
                .body("results.document_id", not(hasItem(LAYOFFS)))
                .body("results.document_id", hasItem(LEAVE));
        // confidential: the cleared key finds it and reads it in clear, the others never see it
        // found among all hits, not by rank: other test classes share the index and move keyword scores
        String layoffs = "results.find { it.document_id == '" + LAYOFFS + "' }";
        search(TestKeys.FINANCE, "{\"query\":\"plan social suppression de postes " + CANARY + "\",\"collection\":\"knowledge-base\",\"mode\":\"keyword\",\"top_k\":100}")
                .statusCode(200).body("results.document_id", hasItem(LAYOFFS))
                .body(layoffs + ".content", org.hamcrest.Matchers.containsString(CANARY))
                .body(layoffs + ".metadata.section", equalTo("Plan de départs"));
        for (String mode : List.of("dense", "keyword", "hybrid")) {
            search(TestKeys.READER, "{\"query\":\"plan social suppression de postes\",\"collection\":\"knowledge-base\",\"top_k\":100,\"mode\":\"" + mode + "\"}")
                    .statusCode(200).body("results.document_id", not(hasItem(LAYOFFS)));
        }
        search(TestKeys.READER, "{\"query\":\"congés\",\"collection\":\"knowledge-base\",\"filters\":{\"department\":\"hr\"}}")
                .statusCode(200).body("results.document_id", everyItem(equalTo(LEAVE)));
        search(TestKeys.READER, "{\"query\":\"congés\",\"collection\":\"knowledge-base\",\"filters\":{\"department\":[\"hr\",\"finance\"]}}")
                .statusCode(200).body("results.document_id", hasItem(LEAVE));
        // a confidential document's metadata: opened for the cleared key, and equality filters still reach it
        String byProject = "{\"query\":\"plan social\",\"collection\":\"knowledge-base\",\"filters\":{\"project\":\"" + META_CANARY + "\"}}";
        search(TestKeys.FINANCE, byProject).statusCode(200).body("results.document_id", everyItem(equalTo(LAYOFFS)))
                .body("results[0].metadata.project", equalTo(META_CANARY))
                .body("results[0].metadata.department", equalTo("finance"));
        search(TestKeys.READER, byProject).statusCode(200).body("results", empty());
        search(TestKeys.FINANCE, "{\"query\":\"plan social\",\"collection\":\"knowledge-base\",\"filters\":{\"project\":\"autre\"}}")
                .statusCode(200).body("results", empty());
        search(TestKeys.READER, "{\"query\":\"congés\",\"collection\":\"knowledge-base\",\"filters\":{\"project\":\"" + PLAIN_META + "\"}}")
                .statusCode(200).body("results.document_id", everyItem(equalTo(LEAVE))).body("results.size()", equalTo(1));
        search(TestKeys.FINANCE, "{\"query\":\"x\",\"collection\":\"secret-collection\"}").statusCode(404);
        search(TestKeys.ADMIN, "{\"query\":\"frais\",\"collection\":\"empty-collection\"}").statusCode(200)
                .body("results", empty()).body("total_results", equalTo(0));
    }

    @Test
    void confidentialTextIsNowhereInTheIndexInClear() throws Exception {
        index.store().commit();
        try (Stream<Path> files = Files.walk(indexDir)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertFalse(bytes.contains(CANARY), "canary in clear in " + f);
                assertFalse(bytes.contains(META_CANARY), "metadata canary in clear in " + f);
                assertFalse(bytes.contains("suppression"), "a confidential word in clear in " + f);
            }
        }
        for (String ordinary : List.of("justificatifs", PLAIN_META)) {
            try (Stream<Path> files = Files.walk(indexDir)) {
                assertTrue(files.filter(Files::isRegularFile).anyMatch(f -> {
                    try {
                        return new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(ordinary);
                    } catch (Exception e) {
                        return false;
                    }
                }), "the scan sees " + ordinary + " of an ordinary chunk, so it would see confidential ones");
            }
        }
    }

    @Test
    void redeliveryNewVersionsAndDeletionKeepTheIndexRight() throws Exception {
        String doc = "doc_life" + RUN;
        try (TopicProbe results = TopicProbe.open(Topics.INDEX_RESULTS)) {
            DocumentChunk v1 = chunk(doc, 1, 0, 1, null, false, null, "Le parking du siège ferme à vingt heures.");
            send(v1);
            results.await(r -> doc.equals(r.key()), Duration.ofSeconds(60));
            int size = index.store().size();
            send(v1);
            results.await(r -> doc.equals(r.key()) && r.offset() > 0, Duration.ofSeconds(60));
            Thread.sleep(300);
            assertEquals(size, index.store().size(), "a redelivered chunk overwrites itself");

            send(chunk(doc, 2, 0, 1, null, false, null, "Le parking du siège ferme désormais à vingt-deux heures."));
            results.await(r -> doc.equals(r.key()) && r.value().contains("\"version\":2"), Duration.ofSeconds(60));
            assertEquals(0, index.store().count(doc, 1), "the new version replaced the old chunks");
            assertEquals(1, index.store().count(doc, 2));
        }
        TopicProbe.send(Topics.DOCUMENT_CHUNKS, doc, EventJson.encode(CloudEvent.of("/osfria/test", EventTypes.VERSION_SUPERSEDED, doc,
                VersionSuperseded.deleted(doc))));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> index.store().count(doc, 2) == 0);
    }

    @Test
    void poisonChunksGoToTheDeadLetterTopicAndIndexingGoesOn() throws Exception {
        String doc = "doc_after" + RUN;
        try (TopicProbe dlq = TopicProbe.open(Topics.deadLetter(Topics.DOCUMENT_CHUNKS));
             TopicProbe results = TopicProbe.open(Topics.INDEX_RESULTS)) {
            TopicProbe.send(Topics.DOCUMENT_CHUNKS, "junk" + RUN, "{\"not\":\"a chunk\"}");
            DocumentChunk forged = new DocumentChunk("doc_forged" + RUN, 1, "chunk_forged" + RUN, 0, 1, KB, null, true, true, null,
                    null, Base64.getEncoder().encodeToString("not sealed".getBytes(StandardCharsets.UTF_8)), Map.of(),
                    envelope.wrap(envelope.newDataKey()));
            send(forged);
            send(chunk(doc, 1, 0, 1, null, false, null, "Une note ordinaire après les autres."));
            String reason = new String(dlq.await(r -> ("junk" + RUN).equals(r.key()), Duration.ofSeconds(60))
                    .headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8);
            assertTrue(reason.contains("CloudEvent"), reason);
            dlq.await(r -> ("doc_forged" + RUN).equals(r.key()), Duration.ofSeconds(60));
            JsonNode failed = EventJson.MAPPER.readTree(results.await(r -> ("doc_forged" + RUN).equals(r.key()), Duration.ofSeconds(60)).value());
            assertFalse(failed.at("/data/success").asBoolean());
            results.await(r -> doc.equals(r.key()) && r.value().contains("\"success\":true"), Duration.ofSeconds(60));
        }
    }

    @Test
    void metricsShowEmbeddingSearchIndexSizeAndConsumerLag() {
        search(TestKeys.FINANCE, "{\"query\":\"frais\",\"collection\":\"knowledge-base\"}").statusCode(200);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String name : List.of("osfria_embed_embedding_seconds_count", "osfria_embed_search_seconds_bucket",
                "osfria_embed_index_chunks", "kafka_consumer_fetch_manager_records_lag")) {
            assertTrue(metrics.contains(name), "no " + name + " in /q/metrics");
        }
    }

    @Test
    void badSearchesAre400() {
        for (String body : List.of("{\"collection\":\"knowledge-base\"}", "{\"query\":\"\",\"collection\":\"knowledge-base\"}",
                "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"top_k\":0}",
                "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"top_k\":10000}",
                "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"score_threshold\":1.5}",
                "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"score_threshold\":-2}",
                "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"mode\":\"magic\"}",
                "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"filters\":{\"department\":{\"$ne\":\"hr\"}}}",
                "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"filters\":{\"tags\":[]}}",
                "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"filters\":[1]}",
                "{\"query\":\"" + "x".repeat(10_000) + "\",\"collection\":\"knowledge-base\"}", "[1,2,3]", "{oops")) {
            String answer = search(TestKeys.FINANCE, body).statusCode(400).extract().asString();
            assertTrue(answer.contains("\"type\":\"invalid_request_error\""), body.substring(0, Math.min(80, body.length())) + " -> " + answer);
        }
        given().contentType(ContentType.JSON).body("{\"query\":\"x\",\"collection\":\"knowledge-base\"}")
                .post("/v1/search").then().statusCode(401);
    }

    private static ValidatableResponse search(String key, String body) {
        return given().header("Authorization", TestKeys.bearer(key)).contentType(ContentType.JSON).body(body)
                .post("/v1/search").then();
    }

    private static DocumentChunk chunk(String doc, int version, int ordinal, int total, String department, boolean confidential,
                                       String section, String text) {
        return new DocumentChunk(doc, version, "chunk_" + doc.substring(4) + "_v" + version + "_" + ordinal, ordinal, total, KB,
                department, confidential, false, 1, section, text, department == null ? Map.of() : Map.of("department", department), null);
    }

    /** A confidential chunk as ingest-service seals it. */
    private DocumentChunk sealed(String doc, String department, String section, String text) {
        SecretKey dataKey = envelope.newDataKey();
        String id = "chunk_" + doc.substring(4) + "_v1_0";
        return new DocumentChunk(doc, 1, id, 0, 1, KB, department, true, true, 2, seal(dataKey, section, id + "#section"),
                seal(dataKey, text, id), SealedFields.sealMetadata(dataKey, doc,
                        Map.of("department", department, "confidential", true, "project", META_CANARY)), envelope.wrap(dataKey));
    }

    private static String seal(SecretKey key, String clear, String aad) {
        return Aead.sealText(key, clear, aad);
    }

    private static void send(DocumentChunk chunk) {
        TopicProbe.send(Topics.DOCUMENT_CHUNKS, chunk.documentId(), EventJson.encode(CloudEvent.of("/osfria/test",
                EventTypes.DOCUMENT_CHUNKED, chunk.documentId(), chunk)));
    }
}
