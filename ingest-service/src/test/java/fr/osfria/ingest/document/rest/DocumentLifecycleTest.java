package fr.osfria.ingest.document.rest;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.awaitStatus;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.indexResult;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.ingest.parsing.Fixtures;
import fr.osfria.ingest.pipeline.DocumentMetrics;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** A document's life through the real broker and database, with the test playing embed-service. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class DocumentLifecycleTest {

    @Inject
    AgroalDataSource database;

    /** What this class made the service export, for the k8s module's check of alert rules and dashboards. */
    @org.junit.jupiter.api.AfterAll
    static void saveExportedMetrics() {
        fr.osfria.testing.ExportedMetrics.save(DocumentLifecycleTest.class);
    }


    private static JsonNode json(ConsumerRecord<String, String> record) {
        try {
            return EventJson.MAPPER.readTree(record.value());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static List<JsonNode> chunksOf(TopicProbe chunks, String id, int version) {
        JsonNode first = json(chunks.await(r -> id.equals(r.key()) && r.value().contains("\"version\":" + version),
                Duration.ofSeconds(60)));
        int total = first.at("/data/totalChunks").asInt();
        return chunks.drain(Duration.ofMillis(300)).stream().filter(r -> id.equals(r.key()))
                .map(DocumentLifecycleTest::json).filter(c -> c.at("/data/version").asInt() == version)
                .limit(total).toList();
    }

    @Test
    void uploadedDocumentIsChunkedIndexedReplacedAndDeleted() throws Exception {
        String unique = UUID.randomUUID().toString();
        byte[] docx = Fixtures.docx(List.of("# Notes de frais", "La procédure de remboursement " + unique + " est simple.",
                "# Congés", "Les congés se posent dans l'outil RH."));
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS); TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            String id = upload(TestKeys.FINANCE, "guide.docx", docx, KB, "{\"department\":\"finance\",\"author\":\"Marie\"}")
                    .statusCode(202)
                    .body("document_id", matchesPattern("doc_[0-9a-f]{24}"))
                    .body("status", equalTo("processing"))
                    .body("chunks_count", equalTo(0))
                    .body("filename", equalTo("guide.docx"))
                    .body("upload_time", matchesPattern("\\d{4}-\\d\\d-\\d\\dT.*Z"))
                    .extract().path("document_id");

            List<JsonNode> v1 = chunksOf(chunks, id, 1);
            assertFalse(v1.isEmpty());
            JsonNode first = v1.get(0);
            assertEquals(KB, first.at("/data/collection").asText());
            assertEquals("finance", first.at("/data/department").asText());
            assertEquals("Marie", first.at("/data/metadata/author").asText());
            assertTrue(v1.stream().anyMatch(c -> c.at("/data/text").asText().contains(unique)
                    && c.at("/data/section").asText().equals("Notes de frais")));
            assertTrue(v1.stream().anyMatch(c -> c.at("/data/section").asText().equals("Congés")));
            get(TestKeys.FINANCE, id).body("status", equalTo("processing"));

            indexResult(id, 1, v1.size(), null);
            awaitStatus(TestKeys.FINANCE, id, "indexed");
            get(TestKeys.FINANCE, id).body("chunks_count", equalTo(v1.size()))
                    .body("metadata.department", equalTo("finance"))
                    .body("metadata.author", equalTo("Marie"))
                    .body("metadata.file_size", equalTo(docx.length))
                    .body("collection", equalTo(KB));
            JsonNode indexed = json(events.await(r -> id.equals(r.key()) && r.value().contains("document.indexed"), Duration.ofSeconds(20)));
            assertEquals(v1.size(), indexed.at("/data/chunksCount").asInt());
            assertEquals("guide.docx", indexed.at("/data/filename").asText());
            assertTrue(indexed.at("/data/processingTimeMs").asLong() >= 0);
            // what webhook-service needs to decide who may hear of it
            assertEquals(KB, indexed.at("/data/collection").asText());
            assertEquals("finance", indexed.at("/data/department").asText());
            assertTrue(indexed.at("/data/confidential").isBoolean() && !indexed.at("/data/confidential").asBoolean());

            // the same bytes again: the existing document, not a second one
            upload(TestKeys.FINANCE, "copie.docx", docx, KB, "{\"department\":\"finance\"}")
                    .statusCode(200).body("document_id", equalTo(id)).header("X-Osfria-Duplicate", "true");

            // a new version replaces the content; a late result for the old version changes nothing
            byte[] v2doc = Fixtures.docx(List.of("# Notes de frais", "Nouvelle procédure " + unique + " en vigueur."));
            given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE))
                    .multiPart("file", "guide-v2.docx", v2doc, "application/octet-stream")
                    .multiPart("metadata", "{\"department\":\"finance\"}")
                    .put("/v1/documents/" + id).then()
                    .statusCode(202).body("version", equalTo(2)).body("status", equalTo("processing"));
            List<JsonNode> v2 = chunksOf(chunks, id, 2);
            assertTrue(v2.get(0).at("/data/chunkId").asText().endsWith("_v2_0"));
            indexResult(id, 1, 99, null);
            Thread.sleep(500);
            get(TestKeys.FINANCE, id).body("status", equalTo("processing"));
            indexResult(id, 2, v2.size(), null);
            awaitStatus(TestKeys.FINANCE, id, "indexed");
            get(TestKeys.FINANCE, id).body("filename", equalTo("guide-v2.docx")).body("chunks_count", equalTo(v2.size()));

            given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).delete("/v1/documents/" + id).then().statusCode(204);
            get(TestKeys.FINANCE, id).statusCode(404);
            JsonNode deleted = json(events.await(r -> id.equals(r.key()) && r.value().contains("document.deleted"), Duration.ofSeconds(20)));
            assertEquals("finance", deleted.at("/data/department").asText());
            assertTrue(deleted.at("/data/confidential").isBoolean());
            assertFalse(Files.exists(Path.of("target/test-data/blobs", id)), "the original file is removed");
        }
    }

    /**
     * What the dashboards and the "documents stuck in processing" alert read: documents by status and the age of the
     * oldest still processing, refreshed every 10 s from the table.
     */
    @Test
    void theMetricsCountDocumentsByStatusAndAgeTheOldestStillProcessing() {
        String id = upload(TestKeys.FINANCE, "compte-rendu-" + UUID.randomUUID() + ".txt",
                ("Compte rendu de la réunion " + UUID.randomUUID() + ".").getBytes(StandardCharsets.UTF_8), KB, null)
                .statusCode(202).extract().path("document_id");
        await().atMost(Duration.ofSeconds(60)).until(() -> metric("osfria_ingest_documents{status=\"processing\"}") >= 1
                && metric("osfria_ingest_oldest_processing_seconds") >= 1);
        double indexed = metric("osfria_ingest_documents{status=\"indexed\"}");
        indexResult(id, 1, 1, null);
        awaitStatus(TestKeys.FINANCE, id, "indexed");
        await().atMost(Duration.ofSeconds(60)).until(() -> metric("osfria_ingest_documents{status=\"indexed\"}") > indexed);
    }

    /**
     * During a rolling upgrade a newer replica may store a status this one does not know: the gauges keep following
     * the table, the unknown status is counted under "other" and told once in the log, not at every refresh. The row
     * is written straight into the table (no constraint limits the column) in a collection of its own, and removed.
     */
    @Test
    void aStatusThisVersionDoesNotKnowIsCountedAsOtherAndTheOthersKeepFollowingTheTable() throws Exception {
        String unknownStatus = "ARCHIVED";
        String rowId = "doc_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        List<LogRecord> told = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                // the message as formatted, or its format and parameters, depending on who saw it first
                String text = record.getMessage() + " " + Arrays.toString(record.getParameters());
                if (text.contains(unknownStatus)) {
                    told.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger metricsLog = Logger.getLogger(DocumentMetrics.class.getName());
        metricsLog.addHandler(handler);
        try {
            sql("INSERT INTO document (id, collection, size_bytes, status, uploaded_by, upload_time, updated_at)"
                    + " VALUES (?, ?, 1, ?, 'a-newer-replica', now(), now())", rowId, "upgrade-" + rowId, unknownStatus);
            // a document indexed after the row was written shows in a refresh that read the row: the gauges still
            // follow the table (they froze at their last values when one unknown status failed the whole tally)
            anIndexedDocumentShowsInTheGauges();
            assertEquals(1.0, metric("osfria_ingest_documents{status=\"other\"}"));
            anIndexedDocumentShowsInTheGauges(); // a later refresh, which read the row again
            assertEquals(1, told.size(), "told once over two refreshes or more: " + told.size());
        } finally {
            metricsLog.removeHandler(handler);
            sql("DELETE FROM document WHERE id = ?", rowId);
        }
    }

    private static void anIndexedDocumentShowsInTheGauges() {
        double indexed = metric("osfria_ingest_documents{status=\"indexed\"}");
        String id = upload(TestKeys.FINANCE, "note-" + UUID.randomUUID() + ".txt",
                ("Note de service " + UUID.randomUUID() + ".").getBytes(StandardCharsets.UTF_8), KB, null)
                .statusCode(202).extract().path("document_id");
        indexResult(id, 1, 1, null);
        awaitStatus(TestKeys.FINANCE, id, "indexed");
        await().atMost(Duration.ofSeconds(60)).until(() -> metric("osfria_ingest_documents{status=\"indexed\"}") > indexed);
    }

    private void sql(String statement, String... values) throws SQLException {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(statement)) {
            for (int i = 0; i < values.length; i++) {
                s.setString(i + 1, values[i]);
            }
            s.executeUpdate();
        }
    }

    /** A metric's value as {@code /q/metrics} exports it (labels as written, in that order), -1 if absent. */
    private static double metric(String name) {
        return given().get("/q/metrics").then().extract().asString().lines().filter(l -> l.startsWith(name + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(-1);
    }

    @Test
    void unreadableDocumentsFailWithTheReason() throws Exception {
        try (TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            String broken = upload(TestKeys.FINANCE, "broken.pdf",
                    ("%PDF-1.7\n1 0 obj << /Type /Catalog >>\n" + UUID.randomUUID()).getBytes(StandardCharsets.US_ASCII), KB, null)
                    .statusCode(202).extract().path("document_id");
            String secret = upload(TestKeys.FINANCE, "secret.pdf", Fixtures.pdf(List.of("Confidentiel " + UUID.randomUUID()), "pw"), KB, null)
                    .statusCode(202).extract().path("document_id");
            String empty = upload(TestKeys.FINANCE, "blank.txt", "   \n\n  \t ".getBytes(StandardCharsets.UTF_8), KB, null)
                    .statusCode(202).extract().path("document_id");

            awaitStatus(TestKeys.FINANCE, broken, "failed");
            get(TestKeys.FINANCE, broken).body("error", startsWith("the file is not a readable PDF"));
            awaitStatus(TestKeys.FINANCE, secret, "failed");
            get(TestKeys.FINANCE, secret).body("error", equalTo("PDF is password-protected"));
            awaitStatus(TestKeys.FINANCE, empty, "failed");
            get(TestKeys.FINANCE, empty).body("error", startsWith("the document contains no text"));

            JsonNode failed = json(events.await(r -> secret.equals(r.key()) && r.value().contains("document.failed"),
                    Duration.ofSeconds(20)));
            assertEquals("PDF is password-protected", failed.at("/data/error").asText());
            assertEquals(KB, failed.at("/data/collection").asText());
            assertTrue(failed.at("/data/confidential").isBoolean());
        }
    }
}
