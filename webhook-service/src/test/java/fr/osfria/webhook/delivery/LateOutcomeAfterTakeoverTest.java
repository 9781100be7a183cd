package fr.osfria.webhook.delivery;

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
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * An attempt outlives its lease (a paused JVM, a slow check queue) and another replica claims the delivery meanwhile:
 * the late attempt's outcome must not end the delivery under the newer attempt, whose lease it used to clear (a third
 * claim then sent it once more while the second was still in flight). The other replica's claim is played here by a
 * statement that sets a lease of its own on the row, as a claim does, while the first attempt waits for its answer.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class LateOutcomeAfterTakeoverTest {

    @Inject
    AgroalDataSource db;

    @Test
    void anOutcomeWrittenAfterItsLeaseWasTakenOverLeavesTheNewerAttemptsDeliveryAlone() throws Exception {
        try (Receiver receiver = new Receiver()) {
            receiver.delayMillis = 1_500; // answers 200 well within the attempt's 2 s time-out
            String id = subscribe(receiver.url());
            ModelEvents.publish(1, "/osfria/test", new ConcurrentHashMap<>());
            await().atMost(Duration.ofSeconds(20)).until(() -> receiver.received.size() == 1);

            // another replica's claim, once the first attempt's lease had run out
            String newerLease;
            try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    UPDATE delivery SET lease_until = now() + interval '10 minutes' WHERE subscription_id = ?
                    RETURNING lease_until::text""")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    newerLease = rs.getString(1);
                }
            }

            // the first attempt's answer comes; its outcome is written (or dropped) moments later: the row must stay
            // the newer attempt's throughout (the dropped-outcomes counter is the whole service's, so it is not waited on)
            await().atMost(Duration.ofSeconds(20)).until(() -> receiver.answered.get() == 1);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                        "SELECT status, attempts, lease_until::text FROM delivery WHERE subscription_id = ?")) {
                    ps.setString(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals("PENDING", rs.getString(1), "the late outcome ended the delivery under the newer attempt");
                        assertEquals(0, rs.getInt(2), "the late outcome counted an attempt on the newer attempt's row");
                        assertEquals(newerLease, rs.getString(3), "the late outcome cleared the newer attempt's lease");
                    }
                }
            });
            assertEquals(1, receiver.received.size(), "sent again while the newer attempt holds the delivery");
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }
}
