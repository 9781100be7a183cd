package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import fr.osfria.security.error.DatabaseUnavailable;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.SilentHost;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL gone silent: its node powered off or the network cut, so that nothing answers, not even a reset. The
 * service's statements used to wait until the kernel stopped retransmitting, about 15 minutes, and every request with
 * them, and a statement the server had acknowledged waited for the kernel's keepalive, two hours. Its connections now
 * give up on a server that acknowledges nothing for 20 s and probe one that has been quiet for 10 s: requests are
 * answered 503 {@code database_unavailable} within about that, and the service works again once the server is back.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = {@ResourceArg(name = "database", value = "ingest"),
        @ResourceArg(name = "silent-link", value = "true")})
public class SilentDatabaseTest {

    /** What a client would wait at most; far less than the kernel's 15 minutes, more than the 20 s time-out. */
    private static final Duration CLIENT_PATIENCE = Duration.ofSeconds(75);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TestHTTPResource("/")
    URL service;

    /** The service's own pool (its connections cross the link). */
    @Inject
    Pool pool;

    /** Straight to the server, beside the link. */
    @Inject
    AgroalDataSource database;

    /**
     * A statement the server has received and acknowledged, then silence: nothing is left to send, so only keepalive
     * probes can find the server gone. Vert.x left its clients' probes at the kernel's two hours; each connection is
     * set to probe after 10 s of quiet, and the unanswered probes end it 20 s later.
     */
    @Test
    void aStatementInFlightWhenPostgresqlFallsSilentFailsWithinHalfAMinute() throws Exception {
        assumeTrue(SilentHost.inUse(), "needs a network namespace (root and iproute2) for a link that loses packets");
        CompletableFuture<?> sleeping = pool.query("SELECT pg_sleep(120) AS silent_test").execute()
                .subscribeAsCompletionStage();
        await().atMost(Duration.ofSeconds(10)).until(() -> sleepingStatements() == 1);
        SilentHost.silence();
        try {
            long start = System.nanoTime();
            ExecutionException failed = assertThrows(ExecutionException.class, () -> sleeping.get(75, TimeUnit.SECONDS));
            long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
            assertTrue(DatabaseUnavailable.causes(failed), failed.toString());
            assertTrue(seconds <= 45, "given up after " + seconds + " s");
            System.out.println("silent database: the statement in flight given up after " + seconds + " s");
        } finally {
            SilentHost.restore();
            try (Connection c = database.getConnection(); Statement s = c.createStatement()) {
                s.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%AS silent_test'");
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> list().statusCode() == 200);
    }

    private long sleepingStatements() throws Exception {
        try (Connection c = database.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                     + " AND query LIKE 'SELECT pg_sleep(120)%'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void requestsWhilePostgresqlIsSilentAre503WithinItsTimeOutAndTheServiceComesBack() throws Exception {
        assumeTrue(SilentHost.inUse(), "needs a network namespace (root and iproute2) for a link that loses packets");
        HttpResponse<String> before = list();
        assertEquals(200, before.statusCode(), before.body());

        SilentHost.silence();
        try {
            long start = System.nanoTime();
            // one request on a pooled connection, one more beside it: neither waits for the other
            CompletableFuture<HttpResponse<String>> listing = HTTP.sendAsync(listRequest(), ofString());
            CompletableFuture<HttpResponse<String>> upload = HTTP.sendAsync(uploadRequest(), ofString());
            for (HttpResponse<String> answer : new HttpResponse[] {listing.get(), upload.get()}) {
                assertEquals(503, answer.statusCode(), answer.body());
                assertEquals("database_unavailable", new JsonObject(answer.body()).getJsonObject("error").getString("code"));
                assertTrue(answer.headers().firstValue("Retry-After").isPresent());
            }
            long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
            assertTrue(seconds <= 45, "answered after " + seconds + " s");
            System.out.println("silent database: both answered 503 after " + seconds + " s");
        } finally {
            SilentHost.restore();
        }
        // the pool's dead connections are gone; new ones reach the server
        await().atMost(Duration.ofSeconds(60)).until(() -> list().statusCode() == 200);
    }

    private HttpResponse<String> list() throws Exception {
        return HTTP.send(listRequest(), ofString());
    }

    private HttpRequest listRequest() {
        return HttpRequest.newBuilder(URI.create(service + "v1/documents?collection=" + KB + "&limit=5")).timeout(CLIENT_PATIENCE)
                .header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).GET().build();
    }

    private HttpRequest uploadRequest() {
        String boundary = "osfria-" + UUID.randomUUID();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"silence.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nPendant le silence " + UUID.randomUUID() + "\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\n" + KB + "\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n"
                + "{\"department\":\"finance\"}\r\n--" + boundary + "--\r\n";
        return HttpRequest.newBuilder(URI.create(service + "v1/documents")).timeout(CLIENT_PATIENCE)
                .header("Authorization", TestKeys.bearer(TestKeys.FINANCE))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
    }

    private static HttpResponse.BodyHandler<String> ofString() {
        return HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8);
    }
}
