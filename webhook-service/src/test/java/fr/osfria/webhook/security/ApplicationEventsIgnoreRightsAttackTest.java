package fr.osfria.webhook.security;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.events.Topics;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import fr.osfria.webhook.delivery.Receiver;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The attacks on an application's events: keys that may not read the application's data subscribe to its event
 * type (and to {@code *}) and wait; another application publishes under the first one's prefix on its own topic to
 * pass its events off as the first's. An application's events reach only the keys that may read all its data (its
 * collections, in its department) and admins; the forged events reach nobody and land in the forger's dead-letter
 * topic.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class ApplicationEventsIgnoreRightsAttackTest {

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
    void anApplicationsEventsReachOnlyKeysThatMayReadItsDataAndNobodyCanForgeThem() throws Exception {
        String app = "payroll-" + tag;
        String forger = "mallory-" + tag;
        application(app, List.of("finance"));  // reads and writes knowledge-base, department finance
        application(forger, List.of("hr"));
        String type = "app." + app + ".invoice.created";
        String nobody = KeysCli.create(TestKeys.FILE, new KeyEntry("atk-nobody-" + tag, null, null, Set.of("user"),
                List.of(), List.of(), List.of(), false, null, null, null, null, null, null));
        try (Receiver toFinance = new Receiver(); Receiver toHr = new Receiver(); Receiver toHrAll = new Receiver();
             Receiver toNobody = new Receiver(); Receiver toReader = new Receiver(); Receiver toAdmin = new Receiver();
             TopicProbe forgerDlq = TopicProbe.open(Topics.appDeadLetter(forger))) {
            subscribe(TestKeys.FINANCE, toFinance, List.of(type));   // knowledge-base, finance: all the app's data
            subscribe(TestKeys.READER, toReader, List.of(type));     // knowledge-base, every department: all of it too
            subscribe(TestKeys.HR, toHr, List.of(type));             // knowledge-base, but department hr
            subscribe(TestKeys.HR, toHrAll, List.of("*"));
            subscribe(nobody, toNobody, List.of("*", type));
            subscribe(TestKeys.ADMIN, toAdmin, List.of("*"));

            TopicProbe.send(Topics.appEvents(app), "k", event(type, "E1"));
            // the forger declares the same short type, and publishes the victim's full type on its own topic
            TopicProbe.send(Topics.appEvents(forger), "k", event(type, "F1"));
            TopicProbe.send(Topics.appEvents(app), "k", event(type, "E2"));

            await().atMost(Duration.ofSeconds(60)).until(() -> labels(toAdmin).equals(Set.of("E1", "E2")));
            await().atMost(Duration.ofSeconds(30)).until(() -> labels(toFinance).size() == 2 && labels(toReader).size() == 2);
            ConsumerRecord<String, String> forged = forgerDlq.await(r -> r.value().contains(tag + "F1"), Duration.ofSeconds(30));
            assertEquals(true, forged.value().contains("is not under this application's prefix"), forged.value());
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertEquals(Set.of(), labels(toHr), "hr may not read the application's finance data");
                assertEquals(Set.of(), labels(toHrAll), "subscribing to * changes nothing");
                assertEquals(Set.of(), labels(toNobody), "a key with no collections");
                assertEquals(Set.of("E1", "E2"), labels(toFinance), "finance: the forged event never arrives");
                assertEquals(Set.of("E1", "E2"), labels(toAdmin));
            });
        }
    }

    private static void application(String name, List<String> departments) throws Exception {
        KeysCli.create(TestKeys.FILE, new KeyEntry(name, null, null, Set.of("user"), List.of("knowledge-base"),
                List.of("knowledge-base"), departments, false, null, null, null, null, null, null, true,
                List.of("invoice.created")));
    }

    private String event(String type, String label) {
        return new JsonObject().put("specversion", "1.0").put("id", UUID.randomUUID().toString()).put("source", "/attack")
                .put("type", type).put("data", new JsonObject().put("label", tag + label)).encode();
    }

    private Set<String> labels(Receiver receiver) {
        Set<String> labels = new java.util.TreeSet<>();
        for (Receiver.Request r : receiver.received) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(tag + "([A-Z][0-9])").matcher(r.body());
            while (m.find()) {
                labels.add(m.group(1));
            }
        }
        return labels;
    }

    private static void subscribe(String key, Receiver receiver, List<String> events) {
        // the application's type is known once the registry has read its key (every 200 ms in tests)
        String id = await().atMost(Duration.ofSeconds(60)).until(() -> io.restassured.RestAssured.given()
                .header("Authorization", TestKeys.bearer(key)).contentType(io.restassured.http.ContentType.JSON)
                .body(java.util.Map.of("url", receiver.url(), "events", events)).post("/v1/webhooks")
                .then().extract().path("id"), v -> v != null);
        SUBSCRIPTIONS.add(id);
    }
}
