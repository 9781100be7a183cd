package fr.osfria.webhook.security;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentDeleted;
import fr.osfria.events.document.DocumentFailed;
import fr.osfria.events.document.DocumentIndexed;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.events.usage.UsageThreshold;
import fr.osfria.events.webhook.WebhookExhausted;
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
import io.restassured.http.ContentType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The attack: keys with too few rights subscribe to {@code *} and wait for what the platform publishes. Each must
 * receive exactly what it may see: a key with no collections, a key of another department, a key not cleared for
 * confidential documents, an ops key; an admin receives everything (the positive control), and a key revoked while
 * a delivery waits for its retry gets neither that delivery (even replayed) nor the next events.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class FanOutIgnoresRightsAttackTest {

    private static final String KB = "knowledge-base";
    private final String tag = UUID.randomUUID().toString().substring(0, 8);
    private final List<String> subscriptions = new ArrayList<>();

    @AfterEach
    void deactivate() {
        // so that later tests' events do not pile up retries towards receivers that are closed (deactivated, not
        // deleted: deleting a subscription while a round sends to it fails that whole round)
        subscriptions.forEach(id -> given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("active", false)).put("/v1/webhooks/" + id));
    }

    @Test
    void eachKeyReceivesOnlyWhatItMaySee() throws Exception {
        String nobodyName = "atk-nobody-" + tag;
        String nobody = key(nobodyName, Set.of("user"), List.of(), List.of(), false);
        String ops = key("atk-ops-" + tag, Set.of("ops"), List.of(), List.of(), false);
        try (Receiver toNobody = new Receiver(); Receiver toHr = new Receiver(); Receiver toFinance = new Receiver();
             Receiver toOps = new Receiver(); Receiver toAdmin = new Receiver()) {
            String nobodySub = subscribe(nobody, toNobody, List.of("*"));
            subscribe(TestKeys.HR, toHr, List.of("*"));              // knowledge-base, department hr, not cleared
            String financeSub = subscribe(TestKeys.FINANCE, toFinance, List.of("*")); // knowledge-base, finance, cleared
            subscribe(ops, toOps, List.of("*"));
            subscribe(TestKeys.ADMIN, toAdmin, List.of("*"));

            publish(EventTypes.DOCUMENT_INDEXED, new DocumentIndexed(doc("D1"), "paie-direction.pdf", KB, 3, 10, "finance", true));
            publish(EventTypes.DOCUMENT_INDEXED, new DocumentIndexed(doc("D2"), "conges.pdf", KB, 2, 10, "hr", false));
            publish(EventTypes.DOCUMENT_FAILED, new DocumentFailed(doc("D3"), "scan.pdf", KB, "PDF is password-protected", null, false));
            publish(EventTypes.DOCUMENT_DELETED, new DocumentDeleted(doc("D4"), "bilan.pdf", "reports", "finance", false));
            // a document event that does not say who may see it (as produced before events carried rights)
            publish(EventTypes.DOCUMENT_INDEXED, Map.of("documentId", doc("L1"), "collection", KB, "chunksCount", 1));
            publish(EventTypes.USAGE_THRESHOLD, new UsageThreshold(nobodyName, "daily", tag + "U1", 0.8, 800, 1000));
            publish(EventTypes.USAGE_THRESHOLD, new UsageThreshold("test-finance", "daily", tag + "U2", 0.8, 800, 1000));
            publish(EventTypes.MODEL_LOADED, new ModelAvailability("llm-" + tag + "M1", "gpu-1", 1));
            publish(EventTypes.ALERT_TRIGGERED, Map.of("alertName", "DiskFull", "status", "firing", "fingerprint", tag + "A1"));
            publish(EventTypes.WEBHOOK_EXHAUSTED, new WebhookExhausted(financeSub, "msg_" + tag + "W1", "document.indexed", 4, "500"));
            publish(EventTypes.WEBHOOK_EXHAUSTED, new WebhookExhausted(nobodySub, "msg_" + tag + "W2", "document.indexed", 4, "500"));

            Set<String> everything = Set.of("D1", "D2", "D3", "D4", "L1", "U1", "U2", "M1", "A1", "W1", "W2");
            await().atMost(Duration.ofSeconds(60)).until(() -> labels(toAdmin).equals(everything));

            assertReceivesExactly(toNobody, Set.of("U1", "W2"), "a key with no collections: its own usage and subscription only");
            assertReceivesExactly(toHr, Set.of("D2", "D3"), "hr: its department's and department-less documents of its collection");
            assertReceivesExactly(toFinance, Set.of("D1", "D3", "U2", "W1"), "finance, cleared: its documents, usage, subscription");
            assertReceivesExactly(toOps, Set.of("M1", "A1"), "ops: model and alert events only");
        }
    }

    @Test
    void aRevokedKeyStopsReceivingEvenWhatWasAlreadyOnItsWay() throws Exception {
        String doomedName = "atk-doomed-" + tag;
        String doomed = key(doomedName, Set.of("user"), List.of(KB), List.of("*"), true);
        try (Receiver toDoomed = new Receiver(); Receiver toAdmin = new Receiver()) {
            toDoomed.answers.add(429);
            toDoomed.retryAfter = "600"; // the first attempt is refused; the retry would come much later
            String doomedSub = subscribe(doomed, toDoomed, List.of("*"));
            subscribe(TestKeys.ADMIN, toAdmin, List.of("*"));

            publish(EventTypes.DOCUMENT_INDEXED, new DocumentIndexed(doc("R1"), "note.pdf", KB, 1, 10, null, false));
            await().atMost(Duration.ofSeconds(30)).until(() -> labels(toDoomed).contains("R1")); // it may see it: it is sent

            assertEquals(0, KeysCli.run(new String[] {"--file", TestKeys.FILE.toString(), "revoke", doomedName},
                    null, System.out, System.err));
            await().atMost(Duration.ofSeconds(30)).until(() -> given().header("Authorization", TestKeys.bearer(doomed))
                    .get("/v1/webhooks").statusCode() == 401);
            publish(EventTypes.DOCUMENT_INDEXED, new DocumentIndexed(doc("R2"), "note-2.pdf", KB, 1, 10, null, false));
            await().atMost(Duration.ofSeconds(60)).until(() -> labels(toAdmin).containsAll(Set.of("R1", "R2")));

            // R1 was on its way to the revoked key's receiver: replayed now, it is withheld with the reason, not sent
            String r1 = toDoomed.received.get(0).headers().get("webhook-id");
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .post("/v1/webhooks/" + doomedSub + "/deliveries/" + r1 + "/replay").then().statusCode(202);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> given()
                    .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + doomedSub + "/deliveries")
                    .then().statusCode(200).body("data.size()", equalTo(1)).body("data[0].status", equalTo("skipped"))
                    .body("data[0].history.error", hasItem(containsString("revoked"))));
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> toDoomed.received.size() == 1);
        }
    }

    private void assertReceivesExactly(Receiver receiver, Set<String> expected, String who) {
        // what may arrive arrives; then nothing else does
        await().atMost(Duration.ofSeconds(30)).until(() -> labels(receiver).containsAll(expected));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertEquals(new TreeSet<>(expected), labels(receiver), who));
    }

    /** Which of this test's events a receiver got, by their label (D1, U2, …). */
    private Set<String> labels(Receiver receiver) {
        Set<String> labels = new TreeSet<>();
        for (Receiver.Request r : receiver.received) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(tag + "([A-Z][0-9])").matcher(r.body());
            while (m.find()) {
                labels.add(m.group(1));
            }
        }
        return labels;
    }

    private String doc(String label) {
        return "doc_" + tag + label;
    }

    private static String key(String name, Set<String> roles, List<String> read, List<String> departments, boolean confidential)
            throws Exception {
        return KeysCli.create(TestKeys.FILE, new KeyEntry(name, null, null, roles, read, List.of(), departments, confidential,
                null, null, null, null, null, null));
    }

    private String subscribe(String key, Receiver receiver, List<String> events) {
        // a new key is accepted once the registry has reloaded the file (every 200 ms in tests; far slower on a busy machine)
        String id = await().atMost(Duration.ofSeconds(90)).until(() -> given().header("Authorization", TestKeys.bearer(key))
                .contentType(ContentType.JSON).body(Map.of("url", receiver.url(), "events", events)).post("/v1/webhooks")
                .then().extract().path("id"), v -> v != null);
        subscriptions.add(id);
        return id;
    }

    private static void publish(String type, Object data) {
        String subject = UUID.randomUUID().toString();
        TopicProbe.send(Topics.PUBLIC_EVENTS, subject, EventJson.encode(CloudEvent.of("/osfria/test", type, subject, data)));
    }
}
