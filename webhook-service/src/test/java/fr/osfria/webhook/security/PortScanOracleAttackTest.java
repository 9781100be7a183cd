package fr.osfria.webhook.security;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.Ports;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A key holder maps a company's internal network through webhooks: a subscription per host and port, then reads
 * the attempts' errors ("Connection refused" for a closed port, a protocol error for an open one). Internal hosts are
 * legitimate targets (on-prem receivers live there), so the attempts go out; what comes back must not tell a
 * closed port from an open one.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class PortScanOracleAttackTest {

    @Test
    void closedAndOpenInternalPortsLookTheSame() throws Exception {
        Vertx vertx = Vertx.vertx();
        try (TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            // an open port with a service that is not HTTP (it greets, then hangs up), and a port nobody listens on
            NetServer ssh = vertx.createNetServer().connectHandler(socket -> socket.write("SSH-2.0-OpenSSH_9.2\r\n")
                    .onComplete(x -> socket.close())).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            int closedPort = Ports.free();
            String open = subscribe("http://127.0.0.1:" + ssh.actualPort() + "/");
            String closed = subscribe("http://127.0.0.1:" + closedPort + "/");
            String model = "m-" + UUID.randomUUID();
            TopicProbe.send(Topics.PUBLIC_EVENTS, model, EventJson.encode(CloudEvent.of("/osfria/test", EventTypes.MODEL_UNLOADED,
                    model, new ModelAvailability(model, "gpu", 0))));

            JsonNode openExhausted = exhausted(events, open);
            JsonNode closedExhausted = exhausted(events, closed);
            await().atMost(Duration.ofSeconds(10)).until(() -> "exhausted".equals(status(open)) && "exhausted".equals(status(closed)));

            List<String> openErrors = history(open, "error");
            List<String> closedErrors = history(closed, "error");
            assertEquals(List.of("connection_failed", "connection_failed", "connection_failed", "connection_failed"), openErrors);
            assertEquals(openErrors, closedErrors, "a closed port tells itself from an open one");
            assertEquals(history(open, "status_code"), history(closed, "status_code"));
            assertEquals(openExhausted.at("/data/lastError").asText(), closedExhausted.at("/data/lastError").asText());
            assertEquals("connection_failed", closedExhausted.at("/data/lastError").asText());
            assertFalse(closedExhausted.toString().contains(String.valueOf(closedPort)), "the port is echoed back");
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static JsonNode exhausted(TopicProbe events, String subscription) throws Exception {
        return EventJson.MAPPER.readTree(events.await(r -> r.value().contains(EventTypes.WEBHOOK_EXHAUSTED)
                && r.value().contains(subscription), Duration.ofSeconds(40)).value());
    }

    private static String subscribe(String url) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("url", url, "events", List.of(EventTypes.MODEL_UNLOADED))).post("/v1/webhooks").then()
                .statusCode(201).extract().path("id");
    }

    private static String status(String subscription) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + subscription + "/deliveries")
                .then().extract().path("data[0].status");
    }

    private static <T> List<T> history(String subscription, String field) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + subscription + "/deliveries")
                .then().statusCode(200).extract().path("data[0].history." + field);
    }
}
