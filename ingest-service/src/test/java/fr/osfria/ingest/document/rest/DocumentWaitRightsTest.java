package fr.osfria.ingest.document.rest;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.chunkedDocument;
import static fr.osfria.ingest.IngestTestSupport.indexResult;
import static fr.osfria.ingest.IngestTestSupport.waitFor;
import static org.awaitility.Awaitility.await;
import static fr.osfria.ingest.IngestTestSupport.wokenByNotification;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.ingest.IngestTestSupport;
import fr.osfria.ingest.IngestTestSupport.Answer;
import fr.osfria.ingest.document.wait.DocumentWaits;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyFile;
import fr.osfria.security.key.KeyRegistry;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * What a wait answers is decided when it answers: a key revoked or narrowed while it waits learns nothing more, a new
 * version restarts the wait (or ends it, out of the key's reach), and a wait its client abandons is audited all the
 * same. Keys of this class only, so the shared ones stay as they are.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class DocumentWaitRightsTest {

    static final String REVOKED_WHILE_WAITING = "wait-revoked";
    static final String NARROWED_WHILE_WAITING = "wait-narrowed";
    static final String LEAVING = "wait-leaving";
    static final String REVOKED_KEY = create(REVOKED_WHILE_WAITING);
    static final String NARROWED_KEY = create(NARROWED_WHILE_WAITING);
    static final String LEAVING_KEY = create(LEAVING);
    /** Writes knowledge-base for finance and hr: moves a document from one to the other. */
    static final String MOVER = "wait-mover";
    static final String MOVER_KEY;

    static {
        try {
            MOVER_KEY = KeysCli.create(TestKeys.FILE, new KeyEntry(MOVER, null, null, Set.of("user"), List.of(KB),
                    List.of(KB), List.of("finance", "hr"), false, null, null, null, null, null, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Inject
    DocumentWaits waits;

    @Inject
    KeyRegistry keys;

    @Inject
    MeterRegistry metrics;

    @Inject
    AgroalDataSource database;

    @TestHTTPResource
    URL service;

    /** Reads knowledge-base for the finance department, where {@code chunkedDocument()} uploads. */
    private static String create(String name) {
        try {
            return KeysCli.create(TestKeys.FILE, new KeyEntry(name, null, null, Set.of("user"), List.of(KB), List.of(),
                    List.of("finance"), false, null, null, null, null, null, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aKeyRevokedDuringTheWaitIsAnswered404() throws Exception {
        await().atMost(Duration.ofSeconds(20)).until(() -> keys.active(REVOKED_WHILE_WAITING).isPresent());
        String id = chunkedDocument();
        CompletableFuture<Answer> answer = waitFor(REVOKED_KEY, id, 30);
        awaitWaiting(1);
        rewrite(REVOKED_WHILE_WAITING, k -> k.revoke(Instant.now()));
        await().atMost(Duration.ofSeconds(20)).until(() -> keys.active(REVOKED_WHILE_WAITING).isEmpty());

        indexResult(id, 1, 1, null);
        assertEquals(404, answer.get().status());
    }

    @Test
    void aKeyNarrowedDuringTheWaitIsAnswered404() throws Exception {
        await().atMost(Duration.ofSeconds(20)).until(() -> keys.active(NARROWED_WHILE_WAITING).isPresent());
        String id = chunkedDocument();
        CompletableFuture<Answer> answer = waitFor(NARROWED_KEY, id, 30);
        awaitWaiting(1);
        rewrite(NARROWED_WHILE_WAITING, k -> new KeyEntry(k.name(), k.hash(), k.hint(), k.roles(), k.readCollections(),
                k.writeCollections(), List.of("hr"), k.confidential(), null, null, null, null, k.createdAt(), null));
        await().atMost(Duration.ofSeconds(20)).until(() -> keys.active(NARROWED_WHILE_WAITING)
                .map(k -> k.departments().equals(List.of("hr"))).orElse(false));

        indexResult(id, 1, 1, null);
        assertEquals(404, answer.get().status());
    }

    /** Leaving early must not be a way to learn, unaudited, that a document exists and is still processing. */
    @Test
    void aWaitTheClientAbandonsIsAuditedOnce() throws Exception {
        await().atMost(Duration.ofSeconds(20)).until(() -> keys.active(LEAVING).isPresent());
        String id = chunkedDocument();
        try (TopicProbe audit = TopicProbe.open(Topics.AUDIT)) {
            try (Socket client = new Socket(service.getHost(), service.getPort())) {
                OutputStream out = client.getOutputStream();
                out.write(("GET /v1/documents/" + id + "?wait=30 HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
                        + TestKeys.bearer(LEAVING_KEY) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                awaitWaiting(1);
            }
            awaitWaiting(0);
            audit.await(r -> id.equals(r.key()) && r.value().contains("\"document.read\""), Duration.ofSeconds(20));
            long reads = audit.drain(Duration.ofSeconds(2)).stream()
                    .filter(r -> id.equals(r.key()) && r.value().contains("\"document.read\"")).count();
            assertEquals(1, reads, "the abandoned wait is audited once");
        }
        indexResult(id, 1, 1, null); // settled before another test measures anything
    }

    /** A new version moved out of the key's reach (another department): the wait learns it at once, with a 404. */
    @Test
    void aNewVersionOutOfTheKeysReachIsAnswered404AtOnce() throws Exception {
        await().atMost(Duration.ofSeconds(20)).until(() -> keys.active(MOVER).isPresent() && keys.active(LEAVING).isPresent());
        String id = chunkedDocument();
        CompletableFuture<Answer> answer = waitFor(LEAVING_KEY, id, 30);
        awaitWaiting(1);
        Instant replaced = Instant.now();
        newVersion(MOVER_KEY, id, "{\"department\":\"hr\"}");
        Answer gone = answer.get();
        assertEquals(404, gone.status());
        Duration took = Duration.between(replaced, gone.at());
        assertTrue(took.compareTo(Duration.ofSeconds(10)) < 0, "answered " + took.toMillis() + " ms after the new version");
        awaitChunked(id);
        indexResult(id, 2, 1, null); // settled before another test measures anything
    }

    /** A new version within reach: the wait goes on, and answers once that version settles. */
    @Test
    void aNewVersionRestartsTheWait() throws Exception {
        await().atMost(Duration.ofSeconds(20)).until(() -> keys.active(MOVER).isPresent());
        String id = chunkedDocument();
        CompletableFuture<Answer> answer = waitFor(TestKeys.FINANCE, id, 30);
        awaitWaiting(1);
        double notified = wokenByNotification(metrics);
        newVersion(MOVER_KEY, id, "{\"department\":\"finance\"}");
        await().atMost(Duration.ofSeconds(10)).until(() -> wokenByNotification(metrics) > notified);
        Thread.sleep(500); // read again, still processing: waiting again
        assertFalse(answer.isDone(), "answered while the new version is processing");
        assertEquals(1, waits.waiting());

        awaitChunked(id);
        indexResult(id, 2, 1, null);
        Answer indexed = answer.get();
        assertEquals("indexed", indexed.body().getString("status"));
        assertEquals(2, indexed.body().getInteger("version"));
    }

    /** The new version parsed and chunked: embed-service's verdict on it may come. */
    private void awaitChunked(String id) {
        await().atMost(Duration.ofSeconds(60)).until(() -> IngestTestSupport.row(database, id).contains("\"chunked_at\":\""));
    }

    private static void newVersion(String key, String id, String metadata) {
        given().header("Authorization", TestKeys.bearer(key))
                .multiPart("file", "attente-v2.txt", ("Une nouvelle version " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                        "application/octet-stream")
                .multiPart("metadata", metadata)
                .put("/v1/documents/" + id).then().statusCode(202);
    }

    private void awaitWaiting(int count) {
        await().atMost(Duration.ofSeconds(20)).until(() -> waits.waiting() == count);
    }

    private static synchronized void rewrite(String name, UnaryOperator<KeyEntry> change) throws IOException {
        KeyFile.update(TestKeys.FILE, keys -> {
            keys.replaceAll(k -> k.name().equals(name) ? change.apply(k) : k);
            return null;
        });
    }
}
