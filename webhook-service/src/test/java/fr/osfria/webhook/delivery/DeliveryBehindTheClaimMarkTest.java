package fr.osfria.webhook.delivery;

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
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A subscription with attempts always in flight claims each time after the last delivery it took. A delivery that
 * becomes due behind that mark (its lease ran out on a replica that died, an intake committed late) must still go
 * out while the subscription stays busy: the poll tick walks its due deliveries from the oldest.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class DeliveryBehindTheClaimMarkTest {

    @Inject
    AgroalDataSource db;

    @Test
    void aDeliveryDueBehindTheLastOneClaimedIsStillSentWhileItsSubscriptionStaysBusy() throws Exception {
        ScheduledExecutorService steady = Executors.newSingleThreadScheduledExecutor();
        try (Receiver receiver = new Receiver()) {
            receiver.delayMillis = 1_500; // with an event every 200 ms, attempts are in flight all the time
            String id = subscribe(receiver.url());
            steady.scheduleAtFixedRate(() -> ModelEvents.publish(1, "/osfria/test", new ConcurrentHashMap<>()),
                    0, 200, TimeUnit.MILLISECONDS);
            await().atMost(Duration.ofSeconds(20)).until(() -> receiver.received.size() >= 8);

            // due an hour ago, never leased: behind every delivery claimed so far, as one whose lease ran out would be
            try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at, created_at)
                    VALUES ('msg_behind_the_mark', ?, 'evt_behind_the_mark', 'model.loaded',
                      '{"event":"model.loaded","timestamp":"2026-01-01T00:00:00Z","data":{"model":"behind-the-mark","pool":"gpu","replicas":1}}',
                      'PENDING', 0, now() - interval '1 hour', now() - interval '1 hour')""")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }

            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.received.stream()
                    .anyMatch(r -> "msg_behind_the_mark".equals(r.headers().get("webhook-id"))));
            steady.shutdownNow();
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        } finally {
            steady.shutdownNow();
        }
    }
}
