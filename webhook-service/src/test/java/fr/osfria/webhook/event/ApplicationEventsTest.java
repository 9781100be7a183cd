package fr.osfria.webhook.event;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.AsyncApiContract;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import fr.osfria.webhook.delivery.Receiver;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import fr.osfria.testing.InJvmKafka;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * A Kafka application's events on the real broker: a declared event reaches the subscription that names its type,
 * signed like every webhook and with its data as sent, once even if sent twice; every kind of bad record lands on the
 * application's dead-letter topic with the reason (in the contract's form), is delivered to nobody, and never holds
 * up the record after it.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class ApplicationEventsTest {

    private final String tag = UUID.randomUUID().toString().substring(0, 8);
    private static final List<String> SUBSCRIPTIONS = new java.util.concurrent.CopyOnWriteArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void deactivate() {
        // so that later tests' events do not pile up retries towards receivers that are closed
        SUBSCRIPTIONS.forEach(id -> io.restassured.RestAssured.given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .contentType(io.restassured.http.ContentType.JSON).body(java.util.Map.of("active", false))
                .put("/v1/webhooks/" + id));
        SUBSCRIPTIONS.clear();
    }

    @Test
    void aDeclaredEventIsDeliveredSignedAndEveryBadRecordIsDeadLetteredWithItsReason() throws Exception {
        String app = "billing-" + tag;
        application(app, "invoice.created,invoice.paid");
        String type = "app." + app + ".invoice.created";
        String secret = "whsec_" + Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes());
        try (Receiver receiver = new Receiver();
             TopicProbe dlq = TopicProbe.open(Topics.appDeadLetter(app));
             TopicProbe ghostDlq = TopicProbe.open(Topics.appDeadLetter("ghost-" + tag))) {
            String subscription = subscribe(TestKeys.FINANCE, receiver, List.of(type), secret);
            given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).contentType(ContentType.JSON)
                    .body(Map.of("url", receiver.url(), "events", List.of("app." + app + ".invoice.refunded")))
                    .post("/v1/webhooks").then().statusCode(400).body("error.message", containsString("unknown event type"));

            JsonObject good = event(type, "G1").put("data", new JsonObject().put("invoiceId", "2026-0042").put("label", tag + "G1"));
            Map<String, String> bad = new TreeMap<>(); // label → the record
            bad.put("B1", "{not json " + tag + "B1");
            bad.put("B2", event(type, "B2").put("api_key", "sk-osfria-nope").encode());
            bad.put("B3", event("app." + app + ".invoice.refunded", "B3").encode());
            bad.put("B4", event("app.other-" + tag + ".invoice.created", "B4").encode());
            bad.put("B5", event(type, "B5").put("data", new JsonObject().put("blob", "x".repeat(70_000))).encode());
            bad.put("B6", event("app." + app + ".%", "B6").encode());
            bad.put("B7", event(type, "B7").put("data", "not an object").encode());
            for (String schemaless : List.of("B1", "B2", "B6", "B7")) { // the others need the key or the size to tell
                assertThrows(AssertionError.class, () -> AsyncApiContract.assertValid("ApplicationEvent", bad.get(schemaless)), schemaless);
            }
            AsyncApiContract.assertValid("ApplicationEvent", good.encode());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.<String, Object>of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                    new StringSerializer(), new StringSerializer())) { // one producer: a probe's send makes one each time
                for (String record : bad.values()) {
                    producer.send(new ProducerRecord<>(Topics.appEvents(app), "same-key", record)).get();
                }
                // after every bad record, on the same partition; twice, as Kafka delivers at least once
                producer.send(new ProducerRecord<>(Topics.appEvents(app), "same-key", good.encode())).get();
                producer.send(new ProducerRecord<>(Topics.appEvents(app), "same-key", good.encode())).get();
                producer.send(new ProducerRecord<>(Topics.appEvents("ghost-" + tag), "k",
                        event("app.ghost-" + tag + ".invoice.created", "U1").encode())).get();
            }

            await().atMost(Duration.ofSeconds(60)).until(() -> !receiver.received.isEmpty());
            Receiver.Request r = receiver.received.get(0);
            byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
            String id = r.headers().get("webhook-id");
            assertEquals("v1," + Base64.getEncoder().encodeToString(hmac(key, id + "." + r.headers().get("webhook-timestamp")
                    + "." + r.body())), r.headers().get("webhook-signature"));
            assertEquals("sha256=" + HexFormat.of().formatHex(hmac(key, r.body())), r.headers().get("X-Osfria-Signature"));
            assertEquals(type, r.headers().get("X-Osfria-Event"));
            JsonNode body = EventJson.MAPPER.readTree(r.body());
            assertEquals(type, body.get("event").asText());
            assertEquals("2026-12-01T08:15:00Z", body.get("timestamp").asText());
            assertEquals("2026-0042", body.at("/data/invoiceId").asText(), "the application's data as sent: " + r.body());

            Map<String, String> reasons = new TreeMap<>();
            for (String label : bad.keySet()) { // the dead letters were sent before the good event was taken in
                ConsumerRecord<String, String> letter = dlq.await(x -> label.equals(label(x.value())), Duration.ofSeconds(10));
                AsyncApiContract.assertValid("DeadLetter", letter.value());
                JsonNode l = EventJson.MAPPER.readTree(letter.value());
                assertEquals(l.get("reason").asText(), new String(letter.headers().lastHeader("dead-letter-reason").value(),
                        StandardCharsets.UTF_8));
                assertEquals(Topics.appEvents(app), l.get("topic").asText());
                reasons.put(label, l.get("reason").asText());
            }
            assertTrue(reasons.get("B1").startsWith("the record is not JSON"), reasons.toString());
            assertTrue(reasons.get("B2").contains("unknown attribute 'api_key'"), reasons.toString());
            assertTrue(reasons.get("B3").contains("is not declared by application " + app), reasons.toString());
            assertTrue(reasons.get("B4").contains("is not under this application's prefix"), reasons.toString());
            assertTrue(reasons.get("B5").contains("an event is at most 65536"), reasons.toString());
            assertTrue(reasons.get("B6").contains("is not declared"), reasons.toString());
            assertTrue(reasons.get("B7").contains("'data' must be a JSON object"), reasons.toString());
            ConsumerRecord<String, String> ghost = ghostDlq.await(x -> true, Duration.ofSeconds(30));
            assertTrue(ghost.value().contains("no active Kafka application key named 'ghost-" + tag + "'"), ghost.value());

            // the duplicate was not delivered again, nothing bad was delivered, and the service is healthy
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> receiver.received.size() == 1);
            given().get("/q/health").then().statusCode(200);
            given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE))
                    .get("/v1/webhooks/" + subscription + "/deliveries").then().statusCode(200)
                    .body("data[0].event", org.hamcrest.Matchers.equalTo(type));
        }
    }

    /** Which bad record a dead letter is about: its subject's label, or (kept as its size only) by its reason. */
    private String label(String letter) {
        try {
            JsonNode l = EventJson.MAPPER.readTree(letter);
            return l.has("record") ? l.at("/record/subject").asText().replace(tag, "")
                    : l.get("reason").asText().startsWith("the record is not JSON") ? "B1" : "B5";
        } catch (Exception e) {
            throw new AssertionError(letter, e);
        }
    }

    /** A Kafka application's key declaring {@code types}: reads and writes knowledge-base, department finance. */
    static void application(String name, String types) throws Exception {
        KeysCli.create(TestKeys.FILE, new KeyEntry(name, null, null, Set.of("user"), List.of("knowledge-base"),
                List.of("knowledge-base"), List.of("finance"), false, null, null, null, null, null, null, true,
                List.of(types.split(","))));
    }

    /** A CloudEvent of the application whose subject is the tag and {@code label}, so its dead letter can be told. */
    JsonObject event(String type, String label) {
        return new JsonObject().put("specversion", "1.0").put("id", UUID.randomUUID().toString())
                .put("source", "/billing/invoicing").put("type", type).put("time", "2026-12-01T08:15:00Z")
                .put("subject", tag + label).put("data", new JsonObject().put("label", tag + label));
    }

    /** Subscribes once the registry has read the new application's key (every 200 ms in tests). */
    static String subscribe(String key, Receiver receiver, List<String> events, String secret) {
        Map<String, Object> body = new java.util.HashMap<>(Map.of("url", receiver.url(), "events", events));
        if (secret != null) {
            body.put("secret", secret);
        }
        String id = await().atMost(Duration.ofSeconds(60)).until(() -> given().header("Authorization", TestKeys.bearer(key))
                .contentType(ContentType.JSON).body(body).post("/v1/webhooks").then().extract().path("id"), v -> v != null);
        SUBSCRIPTIONS.add(id);
        return id;
    }

    private static byte[] hmac(byte[] key, String data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    }
}
