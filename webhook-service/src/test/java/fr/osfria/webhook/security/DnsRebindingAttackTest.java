package fr.osfria.webhook.security;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A key holder points a webhook at a name whose DNS answers change between lookups (DNS rebinding), or that stops
 * resolving, to reach a service listening on the platform's own loopback interface.
 */
@QuarkusTest
@TestProfile(AttackerDns.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class DnsRebindingAttackTest {

    private Vertx vertx;
    private HttpServer internal;
    /** Requests that reached the internal service on 127.0.0.1, with their Host header. */
    private final List<String> reached = new CopyOnWriteArrayList<>();

    @BeforeEach
    void internalService() throws Exception {
        vertx = Vertx.vertx();
        internal = vertx.createHttpServer().requestHandler(req -> {
            reached.add(req.host());
            req.response().setStatusCode(200).end("admin console");
        }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aNameRepointedToLoopbackAfterItsCheckNeverReachesLoopback() throws Exception {
        // the attacker's DNS: a public address for the first two lookups, loopback afterwards. "localhost" is used
        // so that a second lookup by any other resolver (the HTTP client's) lands on loopback as well
        ScriptedResolver.script("localhost", "198.51.100.7", "198.51.100.7", "127.0.0.1");
        String id = subscribe("http://localhost:" + internal.actualPort() + "/admin", EventTypes.MODEL_LOADED);
        publish(EventTypes.MODEL_LOADED);

        // finished either way: exhausted (refused or unreachable), or delivered (the loopback service answered)
        await().atMost(Duration.ofSeconds(40)).until(() -> finished(delivery(id).path("data[0].status")));
        List<String> errors = delivery(id).path("data[0].history.error");
        assertEquals(List.of(), reached, "the loopback service was reached");
        assertTrue(ScriptedResolver.lookups("localhost") >= 3, "every attempt looked the name up through the policy");
        assertTrue(errors.contains("refused_by_policy"), "the loopback answer was refused: " + errors);
        assertTrue(errors.stream().allMatch(e -> List.of("refused_by_policy", "connection_failed", "timeout").contains(e)), errors.toString());
    }

    @Test
    void aNameThatDoesNotResolveIsRefusedAtCreationUpdateAndDelivery() throws Exception {
        // scripted, not the machine's resolver: offline, glibc may give up after its time-out, a lookup_timeout 503
        ScriptedResolver.script("hooks.nowhere.invalid", (String) null);
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).contentType(ContentType.JSON)
                .body(Map.of("url", "https://hooks.nowhere.invalid/hook", "events", List.of("*"))).post("/v1/webhooks").then()
                .statusCode(400).body("error.type", equalTo("invalid_request_error")).body("error.message", containsString("does not resolve"));

        ScriptedResolver.script("vanishing.test", "198.51.100.8", null);
        String id = subscribe("http://vanishing.test:" + internal.actualPort() + "/hook", EventTypes.MODEL_UNLOADED);
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("url", "http://vanishing.test/other")).put("/v1/webhooks/" + id).then()
                .statusCode(400).body("error.message", containsString("does not resolve"));

        publish(EventTypes.MODEL_UNLOADED);
        await().atMost(Duration.ofSeconds(30)).until(() -> "exhausted".equals(delivery(id).path("data[0].status")));
        List<String> errors = delivery(id).path("data[0].history.error");
        assertEquals(List.of("refused_by_policy", "refused_by_policy", "refused_by_policy", "refused_by_policy"), errors);
    }

    @Test
    void noLookupRunsOnTheEventLoop() throws Exception {
        ScriptedResolver.ON_EVENT_LOOP.clear();
        ScriptedResolver.script("apps.test", "198.51.100.9");
        String id = subscribe("http://apps.test/hook", EventTypes.DOCUMENT_DELETED);
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("url", "http://apps.test/other")).put("/v1/webhooks/" + id).then().statusCode(200);
        assertTrue(ScriptedResolver.lookups("apps.test") >= 2);
        assertEquals(List.of(), ScriptedResolver.ON_EVENT_LOOP, "names looked up on the event loop");
    }

    /** The control: a listed name is connected to at the address it resolved to, and named in the Host header. */
    @Test
    void aListedNameIsDeliveredToTheAddressItResolvedToUnderItsOwnName() throws Exception {
        ScriptedResolver.script("receiver.test", "127.0.0.1");
        subscribe("http://receiver.test:" + internal.actualPort() + "/hook", EventTypes.ALERT_TRIGGERED);
        publish(EventTypes.ALERT_TRIGGERED);
        await().atMost(Duration.ofSeconds(20)).until(() -> !reached.isEmpty());
        assertEquals("receiver.test:" + internal.actualPort(), reached.get(0));
    }

    private static String subscribe(String url, String type) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("url", url, "events", List.of(type)))
                .post("/v1/webhooks").then().statusCode(201).extract().path("id");
    }

    private static io.restassured.response.ExtractableResponse<io.restassured.response.Response> delivery(String id) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + id + "/deliveries").then()
                .statusCode(200).extract();
    }

    private static void publish(String type) {
        String model = "m-" + UUID.randomUUID();
        Object data = type.startsWith("alert.") ? Map.of("alertName", "DiskFull", "fingerprint", model)
                : new ModelAvailability(model, "gpu", 1);
        TopicProbe.send(Topics.PUBLIC_EVENTS, model, EventJson.encode(CloudEvent.of("/osfria/test", type, model, data)));
    }

    /** Exhausted or delivered; null while the event has not been taken in yet. */
    private static boolean finished(Object status) {
        return "exhausted".equals(status) || "delivered".equals(status);
    }
}
