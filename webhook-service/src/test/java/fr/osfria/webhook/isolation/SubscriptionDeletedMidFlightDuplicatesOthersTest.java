package fr.osfria.webhook.isolation;

import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.events.EventTypes;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.webhook.ModelEvents;
import fr.osfria.webhook.delivery.Receiver;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A key holder deletes a subscription while its attempts are under way, next to another subscription's. The
 * deleted one's outcomes have no delivery left to be recorded with; they used to fail the write of the whole batch of
 * ended attempts, so the other subscription's deliveries stayed leased and were sent a second time when the lease
 * ran out. The neighbour must get each event once and see it delivered.
 */
@QuarkusTest
@TestProfile(SubscriptionDeletedMidFlightDuplicatesOthersTest.ShortLease.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class SubscriptionDeletedMidFlightDuplicatesOthersTest {

    private static final int EVENTS = 30;

    /** A lease just over the attempt time-out, so that an unrecorded delivery would be sent again within the test. */
    public static class ShortLease implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("osfria.webhook.lease", "3s");
        }
    }

    @Test
    void deletingASubscriptionInFlightNeitherResendsNorLosesAnotherOnesDeliveries() throws Exception {
        try (Receiver neighbour = new Receiver(); Receiver deleted = new Receiver()) {
            // both answer after the same pause, so that their attempts end, and are recorded, together
            neighbour.delayMillis = 800;
            deleted.delayMillis = 800;
            String neighbourId = subscribe(neighbour.url());
            String deletedId = subscribe(deleted.url());

            List<String> models = ModelEvents.publish(EVENTS, "/osfria/test", new ConcurrentHashMap<>());
            await().atMost(Duration.ofSeconds(30)).until(() -> !deleted.received.isEmpty());
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + deletedId)
                    .then().statusCode(204);

            await().atMost(Duration.ofSeconds(30)).until(() -> models.stream().allMatch(m -> received(neighbour).containsKey(m)));
            // past the lease and a retry's time-out: nothing arrives twice
            await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(12))
                    .until(() -> received(neighbour).values().stream().allMatch(n -> n == 1));
            Map<String, Long> byWebhookId = neighbour.received.stream()
                    .collect(Collectors.groupingBy(r -> r.headers().get("webhook-id"), Collectors.counting()));
            assertEquals(EVENTS, byWebhookId.size());
            assertEquals(Map.of(), byWebhookId.entrySet().stream().filter(e -> e.getValue() > 1)
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)), "sent twice");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given()
                    .header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .get("/v1/webhooks/" + neighbourId + "/deliveries?limit=100")
                    .then().body("data.status", everyItem(equalTo("delivered"))).body("data.size()", equalTo(EVENTS)));
        }
    }

    private static Map<String, Long> received(Receiver receiver) {
        return receiver.received.stream().map(r -> ModelEvents.modelOf(r.body()))
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

}
