package fr.osfria.ingest.appkafka;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.ingest.OperatedInstall;
import fr.osfria.ingest.document.service.DocumentUploads;
import fr.osfria.ingest.document.service.Submission;
import fr.osfria.ingest.document.service.Upload;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import fr.osfria.testing.AsyncApiContract;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.core.Vertx;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Kafka application's record read twice (its offset was not committed: a rebalance, a crash, a redeploy during its
 * fetch), played by producing the same record twice: one document, and the results topic never names two documents
 * for it. The key of a record is its application and its CloudEvent id, never the id alone. Same set-up (keys,
 * file server, fetch settings) as {@link DocumentsByUrlTest}.
 */
@QuarkusTest
@TestProfile(OperatedInstall.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
class RecordsReadTwiceTest {

    static final String APP = DocumentsByUrlTest.APP;
    static final String OTHER = DocumentsByUrlTest.OTHER;

    static FileServer files;

    @Inject
    AgroalDataSource database;

    @Inject
    DocumentUploads uploads;

    @Inject
    KeyRegistry keys;

    @Inject
    Vertx vertx;

    @Inject
    io.vertx.mutiny.sqlclient.Pool pool;

    @BeforeAll
    static void server() throws IOException {
        files = new FileServer(DocumentsByUrlTest.port("files"));
    }

    @AfterAll
    static void stop() {
        files.close();
    }

    @BeforeEach
    void keyLoaded() {
        await().atMost(Duration.ofSeconds(60)).until(() -> given()
                .header("Authorization", TestKeys.bearer(DocumentsByUrlTest.APP_KEY))
                .get("/v1/documents?collection=" + KB + "&limit=1").then().extract().statusCode() == 200);
    }

    /**
     * A replica died between its record's {@code app_record} insert and its commit (a lost node: no connection reset,
     * its session stays idle in its transaction): the record read again elsewhere waits on that row. Without a bound
     * it waited until PostgreSQL noticed the dead client (hours, with the default keepalives), and every record of
     * the consumer behind it. The service's sessions end such a transaction ({@code idle_in_transaction_session_timeout},
     * 5 s in the tests), and the record goes on.
     */
    @Test
    void aRecordHeldByAReadingThatDiedMidTransactionGoesOn() throws Exception {
        String eventId = UUID.randomUUID().toString();
        String correlation = "dead-" + UUID.randomUUID();
        io.vertx.mutiny.sqlclient.SqlConnection dead = pool.getConnection().await().atMost(Duration.ofSeconds(10));
        try {
            dead.begin().await().atMost(Duration.ofSeconds(10));
            dead.preparedQuery("INSERT INTO app_record (app_name, event_id, document_id) VALUES ($1, $2, 'doc_never_committed')")
                    .execute(io.vertx.mutiny.sqlclient.Tuple.of(APP, eventId)).await().atMost(Duration.ofSeconds(10));
            try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
                TopicProbe.send(Topics.appDocuments(APP), correlation, inline(eventId, correlation, text()));
                String id = result(results, correlation, "accepted").getString("document_id");
                assertEquals(List.of(id), documentsOf(correlation));
            }
        } finally {
            dead.close().await().atMost(Duration.ofSeconds(10));
        }
    }

    /**
     * A record read again after its document was deleted (the consumer group's offsets lost or reset, a rebalance
     * just after the deletion): the deleted document, confidential maybe, came back as a new upload. It stays deleted.
     */
    @Test
    void aRecordReadAgainAfterItsDocumentWasDeletedDoesNotBringItBack() throws Exception {
        String correlation = "deleted-" + UUID.randomUUID();
        String record = inline(UUID.randomUUID().toString(), correlation, text());
        String after = "after-" + UUID.randomUUID();
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            String id = result(results, correlation, "accepted").getString("document_id");
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/documents/" + id)
                    .then().statusCode(204);

            TopicProbe.send(Topics.appDocuments(APP), correlation, record); // read again
            // a record after it on the same partition: once it is answered, the one read again has been processed
            TopicProbe.send(Topics.appDocuments(APP), correlation, inline(UUID.randomUUID().toString(), after, text()));
            result(results, after, "accepted");
            assertEquals(Set.of(id), documentIdsAnswered(results, correlation), "the deleted document came back");
        }
        assertEquals(List.of(), documentsOf(correlation), "the deleted document came back");
    }

    /**
     * A reading stopped between its document's commit and its audit record (a crash): the upload had no trace in the
     * audit, and the record read again audited nothing either. Read again, its upload is audited, once.
     */
    @Test
    void aRecordReadAgainAuditsTheUploadWhoseAuditWasLost() throws Exception {
        String correlation = "audit-" + UUID.randomUUID();
        String record = inline(UUID.randomUUID().toString(), correlation, text());
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            String id = result(results, correlation, "accepted").getString("document_id");
            await().atMost(Duration.ofSeconds(30)).until(() -> uploadsAudited(id) == 1);
            try (Connection c = database.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM audit_record WHERE action = 'document.upload' AND target = ?")) {
                ps.setString(1, id); // what the crash lost
                ps.executeUpdate();
            }
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            assertEquals(id, result(results, correlation, "duplicate").getString("document_id"));
            await().atMost(Duration.ofSeconds(30)).until(() -> uploadsAudited(id) == 1);
        }
    }

    @Test
    void anInlineRecordReadTwiceIsOneDocumentUploadedAndAuditedOnce() throws Exception {
        String correlation = "twice-" + UUID.randomUUID();
        String record = inline(UUID.randomUUID().toString(), correlation, text());
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            TopicProbe.send(Topics.appDocuments(APP), correlation, record); // what a redelivery looks like

            String id = result(results, correlation, "accepted").getString("document_id");
            // the second reading names the same document, with where it is
            JsonObject again = result(results, correlation, "duplicate");
            assertEquals(id, again.getString("document_id"));
            assertEquals("processing", again.getString("document_status"));
            assertEquals(Set.of(id), documentIdsAnswered(results, correlation));
        }
        assertEquals(List.of(documentOf(correlation)), documentsOf(correlation), "one document for one record");
        // one upload in the audit trail: the second reading stored nothing, and did nothing to audit
        await().atMost(Duration.ofSeconds(30)).until(() -> uploadsAudited(documentOf(correlation)) >= 1);
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
                .until(() -> uploadsAudited(documentOf(correlation)) == 1);
    }

    @Test
    void aRecordByUrlReadAgainWhileItsFetchRunsIsFetchedOnceAndIsOneDocument() throws Exception {
        String path = "/held/" + UUID.randomUUID() + ".txt";
        files.held(path, text());
        String correlation = "held-" + UUID.randomUUID();
        String record = byUrl(UUID.randomUUID().toString(), correlation,
                "http://" + ScriptedDns.FILES + ":" + DocumentsByUrlTest.port("files") + path);
        String marker = "marker-" + UUID.randomUUID();
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            // one Kafka key: one partition, read in order
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            await().atMost(Duration.ofSeconds(30)).until(() -> files.requests(path) == 1);
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            TopicProbe.send(Topics.appDocuments(APP), correlation, inline(UUID.randomUUID().toString(), marker, text()));
            // the record after the second reading is answered: the second reading was read while the fetch is held
            result(results, marker, "accepted");
            files.release(path);

            String id = result(results, correlation, "accepted").getString("document_id");
            assertEquals(Set.of(id), documentIdsAnswered(results, correlation));
            assertEquals(id, result(results, correlation, "duplicate").getString("document_id"));
        }
        assertEquals(1, files.requests(path), "the URL was fetched once");
        assertEquals(1, documentsOf(correlation).size(), "one document for one record");
    }

    @Test
    void twoRecordsWithTheSameContentAreStillADuplicateOfTheFirst() throws Exception {
        byte[] same = text();
        String first = "first-" + UUID.randomUUID();
        String second = "second-" + UUID.randomUUID();
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            TopicProbe.send(Topics.appDocuments(APP), first, inline(UUID.randomUUID().toString(), first, same));
            String id = result(results, first, "accepted").getString("document_id");
            TopicProbe.send(Topics.appDocuments(APP), second, inline(UUID.randomUUID().toString(), second, same));
            assertEquals(id, result(results, second, "duplicate").getString("document_id"));
        }
        assertEquals(0, documentsOf(second).size(), "the second record made no document");
    }

    @Test
    void anEventIdIsOnlyEverComparedWithTheSameApplicationsIds() throws Exception {
        String eventId = UUID.randomUUID().toString(); // the same id, chosen by two applications
        String mine = "mine-" + UUID.randomUUID();
        String theirs = "theirs-" + UUID.randomUUID();
        try (TopicProbe appResults = TopicProbe.open(Topics.appResults(APP));
             TopicProbe otherResults = TopicProbe.open(Topics.appResults(OTHER))) {
            TopicProbe.send(Topics.appDocuments(APP), mine, inline(eventId, mine, text()));
            String id = result(appResults, mine, "accepted").getString("document_id");
            TopicProbe.send(Topics.appDocuments(OTHER), theirs, inline(eventId, theirs, text()));
            String otherId = result(otherResults, theirs, "accepted").getString("document_id");
            assertNotEquals(id, otherId, "another application's record with the same id is its own document");
            assertEquals(OTHER, column(otherId, "uploaded_by"));
        }
    }

    @Test
    void aRecordByUrlWhoseFetchFailedIsUploadedWhenReadAgain() throws Exception {
        String path = "/late/" + UUID.randomUUID() + ".txt";
        String correlation = "late-" + UUID.randomUUID();
        String record = byUrl(UUID.randomUUID().toString(), correlation,
                "http://" + ScriptedDns.FILES + ":" + DocumentsByUrlTest.port("files") + path);
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            assertTrue(result(results, correlation, "failed").getString("reason").startsWith("http_404"));
            // nothing was stored: the record is not taken, and its next reading fetches and stores the file
            files.file(path, text());
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            assertNotNull(result(results, correlation, "accepted").getString("document_id"));
        }
        assertEquals(2, files.requests(path));
        assertEquals(1, documentsOf(correlation).size());
    }

    @Test
    void aRecordReadAgainAfterItsDocumentWasMovedOutOfReachLearnsNothingAndStoresNothing() throws Exception {
        String correlation = "moved-" + UUID.randomUUID();
        String record = inline(UUID.randomUUID().toString(), correlation, text());
        try (TopicProbe results = TopicProbe.open(Topics.appResults(APP))) {
            TopicProbe.send(Topics.appDocuments(APP), correlation, record);
            String id = result(results, correlation, "accepted").getString("document_id");
            // an administrator's new version moves it to a department the application may not read
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .multiPart("file", "note-v2.txt", text(), "application/octet-stream")
                    .multiPart("metadata", "{\"department\":\"hr\"}")
                    .put("/v1/documents/" + id).then().statusCode(202);

            TopicProbe.send(Topics.appDocuments(APP), correlation, record); // read again
            String marker = "after-moved-" + UUID.randomUUID();
            TopicProbe.send(Topics.appDocuments(APP), correlation, inline(UUID.randomUUID().toString(), marker, text()));
            result(results, marker, "accepted"); // the second reading is done
            assertEquals(List.of("accepted"), results.drain(Duration.ofSeconds(2)).stream().map(RecordsReadTwiceTest::data)
                    .filter(d -> correlation.equals(d.getString("correlation_id"))).map(d -> d.getString("status"))
                    .toList(), "no second answer: its document is out of the application's reach now");
            // no second document (the first, moved by its new version, no longer reports to the application)
            assertEquals(List.of(), documentsOf(correlation));
            assertEquals("hr", column(id, "department"));
        }
    }

    /**
     * Two readings of one record storing at the same instant (two replicas, each with its partition for a while):
     * both may pass the look-ups before either commits; PostgreSQL lets one document in, and the other reading
     * answers with it.
     */
    @Test
    void twoReadingsStoringAtOnceMakeOneDocumentAndNameIt() throws Exception {
        KeyEntry key = keys.active(APP).orElseThrow();
        for (int i = 0; i < 6; i++) {
            String eventId = UUID.randomUUID().toString();
            String correlation = "race-" + eventId;
            Path file = Files.createTempFile("race-", ".txt");
            Files.write(file, text());
            Upload upload = Upload.of(file, "note.txt", Files.size(file), DocumentsByUrlTest.LIMIT, KB,
                    "{\"department\":\"finance\"}");
            Submission submission = new Submission(APP, eventId, correlation);
            var both = Uni.combine().all().unis(reading(key, upload, submission), reading(key, upload, submission))
                    .asTuple().await().atMost(Duration.ofSeconds(60));
            Files.delete(file);
            DocumentUploads.Result first = both.getItem1();
            DocumentUploads.Result second = both.getItem2();
            assertEquals(documentOf(correlation), first.document().id, first + " " + second);
            assertEquals(first.document().id, second.document().id, "both readings name the one document");
            assertEquals(1, List.of(first.outcome(), second.outcome()).stream()
                    .filter(o -> o == DocumentUploads.Outcome.ACCEPTED).count(), first + " " + second);
        }
    }

    /** One reading, in a session of its own on a context of its own, as the listener runs each record. */
    private Uni<DocumentUploads.Result> reading(KeyEntry key, Upload upload, Submission submission) {
        return Uni.createFrom().emitter(emitter -> {
            io.vertx.core.Context context = VertxContext.createNewDuplicatedContext(vertx.getDelegate().getOrCreateContext());
            VertxContextSafetyToggle.setContextSafe(context, true);
            context.runOnContext(v -> Panache.withSession(() -> uploads.upload(key, upload, submission, System.nanoTime()))
                    .subscribe().with(emitter::complete, emitter::fail));
        });
    }

    private static String inline(String eventId, String correlation, byte[] file) {
        return event(eventId, correlation, "\"file_base64\":\"" + Base64.getEncoder().encodeToString(file) + "\"");
    }

    private static String byUrl(String eventId, String correlation, String url) {
        return event(eventId, correlation, "\"file_url\":\"" + url + "\"");
    }

    private static String event(String eventId, String correlation, String file) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + eventId + "\",\"source\":\"/test/app\","
                + "\"type\":\"fr.osfria.app.document.submitted\",\"data\":{\"correlation_id\":\"" + correlation
                + "\",\"collection\":\"" + KB + "\",\"filename\":\"note.txt\",\"metadata\":{\"department\":\"finance\"},"
                + file + "}}";
    }

    private static byte[] text() {
        return ("Note de service de la finance " + UUID.randomUUID() + ". Les factures sont payées à trente jours.")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static JsonObject data(ConsumerRecord<String, String> r) {
        return new JsonObject(r.value()).getJsonObject("data");
    }

    private static JsonObject result(TopicProbe results, String correlation, String status) {
        ConsumerRecord<String, String> r = results.await(x -> correlation.equals(data(x).getString("correlation_id"))
                && status.equals(data(x).getString("status")), Duration.ofSeconds(45));
        AsyncApiContract.assertValid("DocumentResult", r.value());
        return data(r);
    }

    /** Every document id the results topic named for {@code correlation}, over a few more seconds. */
    private static Set<String> documentIdsAnswered(TopicProbe results, String correlation) {
        return results.drain(Duration.ofSeconds(3)).stream().map(RecordsReadTwiceTest::data)
                .filter(d -> correlation.equals(d.getString("correlation_id")))
                .map(d -> d.getString("document_id")).collect(Collectors.toSet());
    }

    private String documentOf(String correlation) throws Exception {
        List<String> ids = documentsOf(correlation);
        assertEquals(1, ids.size(), "documents of " + correlation + ": " + ids);
        return ids.get(0);
    }

    private List<String> documentsOf(String correlation) throws Exception {
        return strings("SELECT id FROM document WHERE app_correlation_id = ?", correlation);
    }

    private int uploadsAudited(String documentId) throws Exception {
        return strings("SELECT event_id FROM audit_record WHERE action = 'document.upload' AND target = ?", documentId)
                .size();
    }

    private String column(String id, String column) throws Exception {
        List<String> values = strings("SELECT " + column + " FROM document WHERE id = ?", id);
        return values.isEmpty() ? null : values.get(0);
    }

    private List<String> strings(String sql, String parameter) throws Exception {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, parameter);
            try (ResultSet rs = s.executeQuery()) {
                List<String> values = new java.util.ArrayList<>();
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
                return values;
            }
        }
    }
}
