package fr.osfria.webhook.delivery;

import static fr.osfria.webhook.WebhookTestSupport.count;
import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

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
 * attempt could still be running when the lease ends and another claim sends the delivery again, twice at once; given
 * back instead, it would be claimed, checked and given back for as long as the lookups stay slow, and never sent. The
 * attempt renews its lease first: the delivery goes once, late, and its outcome is recorded.
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
    void anAttemptWhoseChecksTookMostOfItsLeaseRenewsItAndIsSentOnce() throws Exception {
        try (Receiver receiver = new Receiver()) {
            // every lookup takes 4.5 s of the 6 s lease; the receiver answers 3 s later (the time-out is 5 s): sent
            // on the lease it had, the attempt would end 1.5 s after it, while a second claim is already under way
            SlowDns.delayMillis = 4_500;
            receiver.delayMillis = 3_000;
            String id = subscribe(receiver.url().replace("127.0.0.1", "localhost"));
            ModelEvents.publish(1, "/osfria/test", new ConcurrentHashMap<>());

            await().atMost(Duration.ofSeconds(30)).until(() -> count(db,
                    "SELECT count(*) FROM delivery WHERE subscription_id = ? AND status = 'DELIVERED' AND attempts = 1", id) == 1);
            // no second attempt behind it: one claim's lookup and lease more
            await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(12)).until(() -> receiver.received.size() == 1);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        } finally {
            SlowDns.delayMillis = 0;
        }
    }
}
