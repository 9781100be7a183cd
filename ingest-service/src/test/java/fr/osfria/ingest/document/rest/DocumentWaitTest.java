package fr.osfria.ingest.document.rest;

import static fr.osfria.ingest.IngestTestSupport.awaitStatus;
import static fr.osfria.ingest.IngestTestSupport.chunkedDocument;
import static fr.osfria.ingest.IngestTestSupport.indexResult;
import static fr.osfria.ingest.IngestTestSupport.waitFor;
import static fr.osfria.ingest.IngestTestSupport.wokenByNotification;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.ingest.IngestTestSupport;
import fr.osfria.ingest.IngestTestSupport.Answer;
import fr.osfria.ingest.document.wait.DocumentWaits;
import fr.osfria.ingest.document.wait.SettledListener;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/documents/{id}?wait=N}: a client learns its document is indexed (or failed) as soon as it is,
 * without polling. The test plays embed-service. The documents waited for are also checked every 3 s (the safety
 * net): a wake counted as a notification's tells that the notification woke it.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class DocumentWaitTest {

    @Inject
    DocumentWaits waits;

    @Inject
    AgroalDataSource database;

    @Inject
    MeterRegistry metrics;

    @Test
    void aWaitAnswersAsSoonAsTheDocumentIsIndexedAndIsAuditedOnce() throws Exception {
        String id = chunkedDocument();
        try (TopicProbe audit = TopicProbe.open(Topics.AUDIT)) {
            Instant asked = Instant.now();
            CompletableFuture<Answer> answer = waitFor(TestKeys.FINANCE, id, 20);
            awaitWaiting(1);
            Thread.sleep(500); // waiting, not answered: the document is still processing
            assertFalse(answer.isDone(), "answered before the document settled");

            double notified = wokenByNotification(metrics);
            indexResult(id, 1, 3, null);
            Answer indexed = answer.get();
            assertEquals(200, indexed.status());
            assertEquals("indexed", indexed.body().getString("status"));
            assertEquals(3, indexed.body().getInteger("chunks_count"));
            assertWokenByTheNotification(notified, id, indexed);
            assertTrue(Duration.between(asked, indexed.at()).compareTo(Duration.ofSeconds(20)) < 0);

            audit.await(r -> id.equals(r.key()) && r.value().contains("\"document.read\""), Duration.ofSeconds(20));
            long reads = audit.drain(Duration.ofSeconds(1)).stream()
                    .filter(r -> id.equals(r.key()) && r.value().contains("\"document.read\"")).count();
            assertEquals(1, reads, "the wait is audited once");
        }
        assertEquals(0, waits.waiting());
    }

    @Test
    void aWaitAnswersWhenIndexingFails() throws Exception {
        String id = chunkedDocument();
        CompletableFuture<Answer> answer = waitFor(TestKeys.FINANCE, id, 20);
        awaitWaiting(1);
        double notified = wokenByNotification(metrics);
        indexResult(id, 1, 0, "the index refused the chunks");
        Answer failed = answer.get();
        assertEquals("failed", failed.body().getString("status"));
        assertEquals("the index refused the chunks", failed.body().getString("error"));
        assertWokenByTheNotification(notified, id, failed);
    }

    @Test
    void aSettledDocumentAnswersAtOnce() throws Exception {
        String id = chunkedDocument();
        indexResult(id, 1, 2, null);
        awaitStatus(TestKeys.FINANCE, id, "indexed");
        Instant asked = Instant.now();
        Answer answer = waitFor(TestKeys.FINANCE, id, 30).get();
        assertEquals("indexed", answer.body().getString("status"));
        assertAtOnce(asked, answer);
    }

    @Test
    void aWaitOutOfRangeIsRefused() throws Exception {
        for (String wait : List.of("0", "31", "-1", "abc", "1.5", "", "100", "+5", " 5", "999999999999")) {
            Answer answer = waitFor(TestKeys.FINANCE, "doc_000000000000000000000000",
                    URLEncoder.encode(wait, StandardCharsets.UTF_8)).get();
            assertEquals(400, answer.status(), "wait=" + wait);
            JsonObject error = answer.body().getJsonObject("error");
            assertEquals("invalid_request_error", error.getString("type"));
            assertEquals("invalid_request", error.getString("code"));
            assertTrue(error.getString("message").contains("'wait'"), error.encode());
        }
    }

    /** A wait reveals nothing a read does not: another key's document, or none, answers 404 at once. */
    @Test
    void anotherKeysDocumentOrAnUnknownOneIs404AtOnce() throws Exception {
        String id = chunkedDocument();
        for (String target : List.of(id, "doc_000000000000000000000000", "not-an-id")) {
            Instant asked = Instant.now();
            Answer answer = waitFor(TestKeys.HR, target, 30).get();
            assertEquals(404, answer.status(), target);
            assertEquals("not_found_error", answer.body().getJsonObject("error").getString("type"));
            assertAtOnce(asked, answer);
        }
        assertEquals(0, waits.waiting());
        indexResult(id, 1, 1, null);
        awaitStatus(TestKeys.FINANCE, id, "indexed"); // settled before the next test measures anything
    }

    /**
     * A key holds 20 waits at once, the replica 25 here: past them a request answers at once what a read answers,
     * and the waits already held are still woken by the change.
     */
    @Test
    void pastTheCapsARequestAnswersAtOnceWithTheCurrentStatus() throws Exception {
        String id = chunkedDocument();
        List<CompletableFuture<Answer>> held = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            held.add(waitFor(TestKeys.FINANCE, id, 30));
        }
        awaitWaiting(20);
        Instant asked = Instant.now();
        Answer pastTheKeysCap = waitFor(TestKeys.FINANCE, id, 30).get();
        assertEquals(200, pastTheKeysCap.status());
        assertEquals("processing", pastTheKeysCap.body().getString("status"));
        assertAtOnce(asked, pastTheKeysCap);

        for (int i = 0; i < 5; i++) {
            held.add(waitFor(TestKeys.ADMIN, id, 30));
        }
        awaitWaiting(25);
        given().get("/q/metrics").then().body(containsString("osfria_ingest_document_waits 25.0"));
        asked = Instant.now();
        Answer pastTheReplicasCap = waitFor(TestKeys.ADMIN, id, 30).get();
        assertEquals("processing", pastTheReplicasCap.body().getString("status"));
        assertAtOnce(asked, pastTheReplicasCap);

        indexResult(id, 1, 1, null);
        for (CompletableFuture<Answer> wait : held) {
            assertEquals("indexed", wait.get().body().getString("status"));
        }
        assertEquals(0, waits.waiting());
    }

    /** A status written without a notification (one lost while the listening connection was down) still wakes the wait. */
    @Test
    void aChangeWithoutNotificationWakesTheWaitAtTheRegularCheck() throws Exception {
        String id = chunkedDocument();
        Instant asked = Instant.now();
        CompletableFuture<Answer> answer = waitFor(TestKeys.FINANCE, id, 20);
        awaitWaiting(1);
        sql("UPDATE document SET status = 'INDEXED', chunks_count = 1, chunks_indexed = 1, indexed_at = now(),"
                + " updated_at = now() WHERE id = '" + id + "'");
        Answer indexed = answer.get();
        assertEquals("indexed", indexed.body().getString("status"));
        Duration waited = Duration.between(asked, indexed.at());
        assertTrue(waited.compareTo(Duration.ofSeconds(10)) < 0, "woken only by the time-out: " + waited);
    }

    /** The listening connection cut (as by a PostgreSQL restart): another is opened, and notifications wake waits again. */
    @Test
    void aLostListeningConnectionIsOpenedAgain() throws Exception {
        int before = listeningBackend();
        sql("SELECT pg_terminate_backend(" + before + ")");
        await().atMost(Duration.ofSeconds(20)).until(this::listeningBackends, pids -> !pids.isEmpty() && !pids.contains(before));

        assertAWaitIsWokenByItsNotification();
    }

    /**
     * A listening connection that no longer answers and is not closed (a network partition; here its backend process
     * stopped): it delivers nothing, so it is replaced, and notifications wake waits again.
     */
    @Test
    void aSilentListeningConnectionIsReplaced() throws Exception {
        int silent = listeningBackend();
        signal("STOP", silent);
        try {
            // the stopped backend still shows its LISTEN: another one listens besides it
            await().atMost(Duration.ofSeconds(30)).until(this::listeningBackends, pids -> pids.stream().anyMatch(pid -> pid != silent));
            // the connection given up was closed, not handed back to the pool: reads wider than the pool all answer
            List<CompletableFuture<Answer>> reads = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                reads.add(waitFor(TestKeys.READER, "doc_000000000000000000000000", 1));
            }
            for (CompletableFuture<Answer> read : reads) {
                assertEquals(404, read.get(30, TimeUnit.SECONDS).status());
            }
        } finally {
            signal("CONT", silent);
        }
        assertAWaitIsWokenByItsNotification();
    }

    @Test
    void aDocumentDeletedWhileWaitedForIs404() throws Exception {
        String id = chunkedDocument();
        CompletableFuture<Answer> answer = waitFor(TestKeys.FINANCE, id, 20);
        awaitWaiting(1);
        double notified = wokenByNotification(metrics);
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).delete("/v1/documents/" + id).then().statusCode(204);
        Instant deleted = Instant.now();
        Answer gone = answer.get();
        assertEquals(404, gone.status());
        assertTrue(wokenByNotification(metrics) > notified, "woken by the regular check: the delete announced nothing");
        assertTrue(Duration.between(deleted, gone.at()).compareTo(Duration.ofSeconds(5)) < 0,
                "answered " + Duration.between(deleted, gone.at()).toMillis() + " ms after the delete");
    }

    /**
     * Woken by the document's announcement (the counter of such wakes rose), and soon after the change: far sooner
     * than the 20 s asked for, with room for a busy machine.
     */
    /** A wait on a new document, answered once it is indexed, woken by the notification of it. */
    private void assertAWaitIsWokenByItsNotification() throws Exception {
        String id = chunkedDocument();
        CompletableFuture<Answer> answer = waitFor(TestKeys.FINANCE, id, 20);
        awaitWaiting(1);
        double notified = wokenByNotification(metrics);
        indexResult(id, 1, 1, null);
        Answer indexed = answer.get();
        assertEquals("indexed", indexed.body().getString("status"));
        assertWokenByTheNotification(notified, id, indexed);
    }

    private void assertWokenByTheNotification(double notifiedBefore, String id, Answer answer) throws SQLException {
        assertTrue(wokenByNotification(metrics) > notifiedBefore, "woken by the regular check, not the notification");
        Duration afterTheChange = Duration.between(changedAt(id), answer.at());
        assertTrue(afterTheChange.compareTo(Duration.ofSeconds(5)) < 0,
                "answered " + afterTheChange.toMillis() + " ms after the status was written");
    }

    private void awaitWaiting(int count) {
        await().atMost(Duration.ofSeconds(20)).until(() -> waits.waiting() == count);
    }

    /** When the document's status was written (indexed or failed). */
    private Instant changedAt(String id) throws SQLException {
        return IngestTestSupport.changedAt(database, id);
    }

    /** Not waited on: answered within the time a read takes on a busy machine, far below the wait asked for. */
    private static void assertAtOnce(Instant asked, Answer answer) {
        Duration took = Duration.between(asked, answer.at());
        assertTrue(took.compareTo(Duration.ofSeconds(3)) < 0, "answered after " + took.toMillis() + " ms");
    }

    /** The backend of the service's listening connection, once there is exactly one. */
    private int listeningBackend() {
        return await().atMost(Duration.ofSeconds(20)).until(this::listeningBackends, pids -> pids.size() == 1).iterator().next();
    }

    /** The backends of the service's listening connections (a connection of their own, named so). */
    private Set<Integer> listeningBackends() throws SQLException {
        Set<Integer> pids = new HashSet<>();
        try (Connection c = database.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                     + " AND application_name = '" + SettledListener.APPLICATION_NAME + "'")) {
            while (rs.next()) {
                pids.add(rs.getInt(1));
            }
        }
        return pids;
    }

    private static void signal(String signal, int pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).inheritIO().start().waitFor());
    }

    private void sql(String statement) throws SQLException {
        try (Connection c = database.getConnection(); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }
}
