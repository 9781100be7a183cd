package fr.osfria.webhook.isolation;

import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.SilentHost;
import fr.osfria.testing.TestKeys;
import fr.osfria.webhook.ModelEvents;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL gone silent (its node powered off, the network cut: no reset, nothing refused). The service's requests
 * used to wait for it until the kernel stopped retransmitting, about 15 minutes. They are answered 503
 * {@code database_unavailable} once the server has acknowledged nothing for 20 s; an event published meanwhile is
 * delivered once the server is back.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = {@ResourceArg(name = "database", value = "webhook"),
        @ResourceArg(name = "silent-link", value = "true")})
class SilentDatabaseTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TestHTTPResource("/")
    URL service;

    @Test
    void requestsWhilePostgresqlIsSilentAre503WithinItsTimeOutAndEventsAreDeliveredOnceItIsBack() throws Exception {
        assumeTrue(SilentHost.inUse(), "needs a network namespace (root and iproute2) for a link that loses packets");
        Vertx vertx = Vertx.vertx();
        try {
            Set<String> received = ConcurrentHashMap.newKeySet();
            HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
                received.add(ModelEvents.modelOf(body.toString()));
                req.response().setStatusCode(204).end();
            })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            subscribe("http://127.0.0.1:" + receiver.actualPort() + "/hook");
            List<String> before = ModelEvents.publish(1, "/osfria/test", new ConcurrentHashMap<>());
            await().atMost(Duration.ofSeconds(60)).until(() -> received.containsAll(before));

            SilentHost.silence();
            List<String> during;
            try {
                during = ModelEvents.publish(1, "/osfria/test", new ConcurrentHashMap<>());
                long start = System.nanoTime();
                HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(URI.create(service + "v1/webhooks"))
                        .timeout(Duration.ofSeconds(75)).header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                        .GET().build(), HttpResponse.BodyHandlers.ofString());
                long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
                assertEquals(503, answer.statusCode(), answer.body());
                assertEquals("database_unavailable", new JsonObject(answer.body()).getJsonObject("error").getString("code"));
                assertTrue(answer.headers().firstValue("Retry-After").isPresent());
                assertTrue(seconds <= 45, "answered after " + seconds + " s");
                System.out.println("silent database: the listing answered 503 after " + seconds + " s");
            } finally {
                SilentHost.restore();
            }
            // the event published while the server was silent, delivered once it is back
            await().atMost(Duration.ofSeconds(120)).until(() -> received.containsAll(during));
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
