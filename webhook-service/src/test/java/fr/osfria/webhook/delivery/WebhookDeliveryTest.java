package fr.osfria.webhook.delivery;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentFailed;
import fr.osfria.events.document.DocumentIndexed;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** Public events reach a real HTTP receiver, signed, retried, never lost. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class WebhookDeliveryTest {

    /** What this class made the service export, for the k8s module's check of alert rules and dashboards. */
    @org.junit.jupiter.api.AfterAll
    static void saveExportedMetrics() {
        fr.osfria.testing.ExportedMetrics.save(WebhookDeliveryTest.class);
    }


    private static Map<String, Object> subscribe(String key, String url, List<String> events, Boolean active) {
        Map<String, Object> body = new java.util.HashMap<>(Map.of("url", url, "events", events));
        if (active != null) {
            body.put("active", active);
        }
        return given().header("Authorization", TestKeys.bearer(key)).contentType(ContentType.JSON).body(body)
                .post("/v1/webhooks").then().statusCode(201).extract().as(Map.class);
    }

    private static String publish(String type, Object data) {
        String subject = UUID.randomUUID().toString();
        TopicProbe.send(Topics.PUBLIC_EVENTS, subject, EventJson.encode(CloudEvent.of("/osfria/test", type, subject, data)));
        return subject;
    }

    private static byte[] hmac(byte[] key, String data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aMatchingEventArrivesSignedThreeWays() throws Exception {
        try (Receiver receiver = new Receiver()) {
            Map<String, Object> sub = subscribe(TestKeys.FINANCE, receiver.url(), List.of("document.indexed"), null);
            String secret = (String) sub.get("secret");
            assertTrue(secret.startsWith("whsec_"));
            subscribe(TestKeys.FINANCE, receiver.url(), List.of("*"), false); // inactive: never delivered to

            publish(EventTypes.MODEL_LOADED, new ModelAvailability("m", "b", 1)); // not subscribed to
            String docId = "doc_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
            publish(EventTypes.DOCUMENT_INDEXED, new DocumentIndexed(docId, "rapport.pdf", "knowledge-base", 24, 15642,
                    "finance", false));
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.received.stream().anyMatch(r -> r.body().contains(docId)));
            Thread.sleep(500);
            assertEquals(1, receiver.received.size(), "one delivery: filtered by type, inactive subscription skipped");

            Receiver.Request r = receiver.received.get(0);
            byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
            // Standard Webhooks
            String id = r.headers().get("webhook-id");
            String timestamp = r.headers().get("webhook-timestamp");
            assertEquals("v1," + Base64.getEncoder().encodeToString(hmac(key, id + "." + timestamp + "." + r.body())),
                    r.headers().get("webhook-signature"));
            // GitHub style, over the exact body
            assertEquals("sha256=" + HexFormat.of().formatHex(hmac(key, r.body())), r.headers().get("X-Osfria-Signature"));
            // the seed's body field, over the body without it
            JsonNode body = EventJson.MAPPER.readTree(r.body());
            String unsigned = r.body().substring(0, r.body().lastIndexOf(",\"signature\":")) + "}";
            assertEquals("sha256=" + HexFormat.of().formatHex(hmac(key, unsigned)), body.get("signature").asText());
            assertEquals("document.indexed", body.get("event").asText());
            assertEquals(docId, body.at("/data/document_id").asText());
            assertEquals(24, body.at("/data/chunks_count").asInt());
            assertEquals(15642, body.at("/data/processing_time_ms").asInt());
        }
    }

    @Test
    void aReceiverThatFailsIsRetriedWithTheSameIdUntilItAnswers() throws Exception {
        try (Receiver receiver = new Receiver()) {
            receiver.answers.addAll(List.of(503, 500));
            subscribe(TestKeys.ADMIN, receiver.url(), List.of("model.loaded"), null);
            String model = publish(EventTypes.MODEL_LOADED, new ModelAvailability("llama-" + UUID.randomUUID(), "gpu-1", 1));
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.received.size() >= 3);
            Thread.sleep(800);
            assertEquals(3, receiver.received.size(), "two failures, then success, then nothing more");
            assertEquals(1, receiver.received.stream().map(r -> r.headers().get("webhook-id")).distinct().count());
            Duration first = Duration.between(receiver.received.get(0).at(), receiver.received.get(1).at());
            Duration second = Duration.between(receiver.received.get(1).at(), receiver.received.get(2).at());
            assertTrue(first.toMillis() >= 150 && second.toMillis() >= 300, first + " then " + second);
            assertTrue(model != null);
        }
    }

    @Test
    void exhaustionIsAnnouncedAndGoneDisables() throws Exception {
        try (Receiver down = new Receiver(); Receiver gone = new Receiver();
             TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            for (int i = 0; i < 10; i++) {
                down.answers.add(500);
            }
            gone.answers.add(410);
            Map<String, Object> downSub = subscribe(TestKeys.ADMIN, down.url(), List.of("alert.triggered"), null);
            Map<String, Object> goneSub = subscribe(TestKeys.ADMIN, gone.url(), List.of("alert.triggered"), null);
            publish(EventTypes.ALERT_TRIGGERED, Map.of("alertName", "DiskFull", "fingerprint", UUID.randomUUID().toString()));

            JsonNode exhausted = EventJson.MAPPER.readTree(events.await(r -> r.value().contains(EventTypes.WEBHOOK_EXHAUSTED)
                    && r.value().contains((String) downSub.get("id")), Duration.ofSeconds(30)).value());
            assertEquals(4, exhausted.at("/data/attempts").asInt(), "the first attempt and three retries");
            assertEquals(4, down.received.size());

            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + goneSub.get("id")).then()
                    .statusCode(200).body("active", equalTo(false)).body("disabled_reason", startsWith("disabled: the receiver answered 410"));
            assertEquals(1, gone.received.size(), "no retry after 410 Gone");
        }
    }

    @jakarta.inject.Inject
    io.vertx.mutiny.sqlclient.Pool db;

    /**
     * A subscription whose deliveries have failed for longer than {@code disable-after} is disabled by its next
     * failure, saying since when; a success clears a failure streak. Both are written with the attempt.
     */
    @Test
    void aLongFailureStreakDisablesAndASuccessEndsIt() throws Exception {
        try (Receiver failing = new Receiver(); Receiver recovered = new Receiver()) {
            failing.answers.add(500);
            String failingId = (String) subscribe(TestKeys.ADMIN, failing.url(), List.of("model.unloaded"), null).get("id");
            String recoveredId = (String) subscribe(TestKeys.ADMIN, recovered.url(), List.of("model.unloaded"), null).get("id");
            db.preparedQuery("UPDATE subscription SET failing_since = now() - make_interval(days => $2) WHERE id = $1")
                    .execute(io.vertx.mutiny.sqlclient.Tuple.of(failingId, 6)).await().indefinitely();
            db.preparedQuery("UPDATE subscription SET failing_since = now() - make_interval(days => $2) WHERE id = $1")
                    .execute(io.vertx.mutiny.sqlclient.Tuple.of(recoveredId, 1)).await().indefinitely();
            publish(EventTypes.MODEL_UNLOADED, new ModelAvailability("m-" + UUID.randomUUID(), "gpu-1", 0));

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .get("/v1/webhooks/" + failingId).then().statusCode(200).body("active", equalTo(false))
                    .body("disabled_reason", startsWith("disabled: every delivery failed since ")));
            await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(deliveryStatus(recoveredId)));
            io.vertx.mutiny.sqlclient.Row row = db.preparedQuery("SELECT active, failing_since FROM subscription WHERE id = $1")
                    .execute(io.vertx.mutiny.sqlclient.Tuple.of(recoveredId)).await().indefinitely().iterator().next();
            assertTrue(row.getBoolean("active"));
            assertEquals(null, row.getValue("failing_since"), "a success ends the failure streak");
        }
    }

    @Test
    void operatorsSeeTheAttemptsAndReplayWhatFailed() throws Exception {
        try (Receiver receiver = new Receiver()) {
            for (int i = 0; i < 4; i++) {
                receiver.answers.add(502);
            }
            Map<String, Object> sub = subscribe(TestKeys.READER, receiver.url(), List.of("document.failed"), null);
            String id = (String) sub.get("id");
            publish(EventTypes.DOCUMENT_FAILED, new DocumentFailed("doc_x", "scan.pdf", "knowledge-base",
                    "PDF is password-protected", null, false));
            await().atMost(Duration.ofSeconds(30)).until(() -> "exhausted".equals(given()
                    .header("Authorization", TestKeys.bearer(TestKeys.READER)).get("/v1/webhooks/" + id + "/deliveries")
                    .then().extract().path("data[0].status")));
            given().header("Authorization", TestKeys.bearer(TestKeys.READER)).get("/v1/webhooks/" + id + "/deliveries").then()
                    .statusCode(200).body("data[0].attempts", equalTo(4)).body("data[0].history.size()", equalTo(4))
                    .body("data[0].history[0].status_code", equalTo(502)).body("data[0].event", equalTo("document.failed"));

            given().header("Authorization", TestKeys.bearer(TestKeys.READER)).post("/v1/webhooks/" + id + "/replay").then()
                    .statusCode(202).body("replayed", equalTo(1));
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.received.size() == 5);
            assertEquals(1, receiver.received.stream().map(r -> r.headers().get("webhook-id")).distinct().count(),
                    "a replay is the same delivery");
            // the success is in the history after the four failures, and stays there when the delivery is replayed
            String deliveryId = receiver.received.get(0).headers().get("webhook-id");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().header("Authorization", TestKeys.bearer(TestKeys.READER))
                    .get("/v1/webhooks/" + id + "/deliveries").then().body("data[0].status", equalTo("delivered"))
                    .body("data[0].history.size()", equalTo(5)).body("data[0].history[4].status_code", equalTo(200)));
            given().header("Authorization", TestKeys.bearer(TestKeys.READER))
                    .post("/v1/webhooks/" + id + "/deliveries/" + deliveryId + "/replay").then().statusCode(202);
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.received.size() == 6);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().header("Authorization", TestKeys.bearer(TestKeys.READER))
                    .get("/v1/webhooks/" + id + "/deliveries").then().body("data[0].status", equalTo("delivered"))
                    .body("data[0].attempts", equalTo(6)).body("data[0].history.size()", equalTo(6))
                    .body("data[0].history.status_code", equalTo(List.of(502, 502, 502, 502, 200, 200))));

            given().header("Authorization", TestKeys.bearer(TestKeys.READER)).post("/v1/webhooks/" + id + "/ping").then().statusCode(202);
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.received.stream().anyMatch(r -> r.body().contains("webhook.ping")));
            given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).get("/v1/webhooks/" + id + "/deliveries").then().statusCode(404);
        }
    }

    @Test
    void receiversThatNeverAnswerAnswerTooMuchOrRedirectAreHandled() throws Exception {
        try (Receiver silent = new Receiver(); Receiver verbose = new Receiver(); Receiver redirecting = new Receiver();
             Receiver elsewhere = new Receiver()) {
            silent.silent = true;
            verbose.answerBytes = 10 * 1024 * 1024;
            redirecting.redirectTo = elsewhere.url();
            String silentId = (String) subscribe(TestKeys.ADMIN, silent.url(), List.of("document.deleted"), null).get("id");
            String verboseId = (String) subscribe(TestKeys.ADMIN, verbose.url(), List.of("document.deleted"), null).get("id");
            String redirectId = (String) subscribe(TestKeys.ADMIN, redirecting.url(), List.of("document.deleted"), null).get("id");
            publish(EventTypes.DOCUMENT_DELETED, Map.of("documentId", "doc_" + UUID.randomUUID()));

            // 10 MB of answer: delivered, the body is never read
            await().atMost(Duration.ofSeconds(20)).until(() -> "delivered".equals(deliveryStatus(verboseId)));
            // a redirect is a failed attempt, never followed
            await().atMost(Duration.ofSeconds(20)).until(() -> redirecting.received.size() >= 2);
            assertEquals(0, elsewhere.received.size(), "the redirect was followed");
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + redirectId + "/deliveries")
                    .then().body("data[0].history[0].status_code", equalTo(302));
            // a receiver that never answers: each attempt ends at the 2 s time-out and is retried
            await().atMost(Duration.ofSeconds(20)).until(() -> silent.received.size() >= 2);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given()
                    .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + silentId + "/deliveries")
                    .then().body("data[0].history[0].error", equalTo("timeout")));
            // and the service answers all along
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks").then().statusCode(200);
        }
    }

    private static String deliveryStatus(String subscriptionId) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + subscriptionId + "/deliveries")
                .then().extract().path("data[0].status");
    }

    @Test
    void retryAfterIsHonoured() throws Exception {
        try (Receiver receiver = new Receiver()) {
            receiver.answers.add(429);
            receiver.retryAfter = "2";
            subscribe(TestKeys.READER, receiver.url(), List.of("usage.threshold"), null);
            publish(EventTypes.USAGE_THRESHOLD, Map.of("keyName", "test-reader", "window", "daily")); // its own key
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.received.size() >= 2);
            Duration gap = Duration.between(receiver.received.get(0).at(), receiver.received.get(1).at());
            assertTrue(gap.toMillis() >= 1900, "waited " + gap + " instead of the 2 s asked");
        }
    }

    @Test
    void subscriptionsAreTheirOwnersAndBadOnesAreRefused() {
        Map<String, Object> mine = subscribe(TestKeys.FINANCE, "http://localhost:9/hook", List.of("*"), null);
        String id = (String) mine.get("id");
        given().header("Authorization", TestKeys.bearer(TestKeys.HR)).get("/v1/webhooks/" + id).then().statusCode(404);
        given().header("Authorization", TestKeys.bearer(TestKeys.HR)).delete("/v1/webhooks/" + id).then().statusCode(404);
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + id).then().statusCode(200)
                .body("secret", equalTo(null));
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).contentType(ContentType.JSON)
                .body(Map.of("events", List.of("document.failed"), "active", false)).put("/v1/webhooks/" + id).then()
                .statusCode(200).body("events", equalTo(List.of("document.failed"))).body("active", equalTo(false));
        List<String> hrSees = given().header("Authorization", TestKeys.bearer(TestKeys.HR)).get("/v1/webhooks").then()
                .statusCode(200).extract().path("data.id");
        assertTrue(!hrSees.contains(id));

        for (Map<String, Object> bad : List.<Map<String, Object>>of(
                Map.of("url", "not a url", "events", List.of("*")),
                Map.of("url", "ftp://files.local/x", "events", List.of("*")),
                Map.of("url", "http://169.254.169.254/latest/meta-data", "events", List.of("*")),
                Map.of("url", "http://[::1]:9000/hook", "events", List.of("*")),
                Map.of("url", "https://user:pw@apps.local/hook", "events", List.of("*")),
                Map.of("url", "https://apps.local/hook", "events", List.of()),
                Map.of("url", "https://apps.local/hook", "events", List.of("document.exploded")),
                Map.of("url", "https://apps.local/hook", "events", List.of("*"), "secret", "short"))) {
            given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).contentType(ContentType.JSON).body(bad)
                    .post("/v1/webhooks").then().statusCode(400).body("error.type", equalTo("invalid_request_error"));
        }
        // a subscription is a few KiB: a body over 1 MiB is refused before it is held whole (the limit was 10 MiB, a
        // key with many connections made the service hold that much for each)
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).contentType(ContentType.JSON)
                .body(Map.of("url", "https://apps.local/hook", "events", List.of("*"), "padding", "x".repeat(1_100_000)))
                .post("/v1/webhooks").then().statusCode(413);
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).delete("/v1/webhooks/" + id).then().statusCode(204);
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).get("/v1/webhooks/" + id).then().statusCode(404);
        given().contentType(ContentType.JSON).body(Map.of("url", "https://a.local", "events", List.of("*")))
                .post("/v1/webhooks").then().statusCode(401);
    }
}
