package fr.osfria.webhook.delivery;

import static fr.osfria.webhook.WebhookTestSupport.count;
import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.webhook.ModelEvents;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The checks before an attempt (here the target's DNS lookup) take most of the delivery's lease: sent then, the
 * attempt could still be running when the lease ends and another claim sends the delivery again, twice at once. It is
 * not sent; the delivery is let go and claimed again, and goes once the checks are quick again.
 */
@QuarkusTest
@TestProfile(SlowDns.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class NearlySpentLeaseTest {

    @Inject
    AgroalDataSource db;

    @Test
    void anAttemptWithLessThanItsTimeOutLeftOfItsLeaseIsNotSent() throws Exception {
        try (Receiver receiver = new Receiver()) {
            // 4.5 s of a 6 s lease spent before the send: 1.5 s left for an attempt of up to 2 s
            SlowDns.delayMillis = 4_500;
            String id = subscribe(receiver.url().replace("127.0.0.1", "localhost"));
            int lookupsBefore = SlowDns.LOOKUPS.get();
            ModelEvents.publish(1, "/osfria/test", new ConcurrentHashMap<>());

            // the first attempt's checks end, then the delivery is claimed and checked again (or sent, on the code before)
            await().atMost(Duration.ofSeconds(30)).until(() -> SlowDns.LOOKUPS.get() >= lookupsBefore + 2 || !receiver.received.isEmpty());
            assertEquals(0, receiver.received.size(), "sent with less than its time-out left of its lease");
            assertEquals(0, count(db, "SELECT count(*) FROM delivery WHERE subscription_id = ? AND (attempts > 0 OR status <> 'PENDING')", id),
                    "an attempt not sent was recorded as one");

            SlowDns.delayMillis = 0;
            // given back, not left leased: claimed again once the lookup under way ends, well before its lease would
            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.received.size() == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> count(db,
                    "SELECT count(*) FROM delivery WHERE subscription_id = ? AND status = 'DELIVERED' AND attempts = 1", id) == 1);
            assertEquals(1, receiver.received.size());
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }
}
