package fr.osfria.webhook.retention;

import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static fr.osfria.webhook.WebhookTestSupport.count;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import fr.osfria.webhook.delivery.Receiver;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A receiver that times out on nearly every attempt and succeeds once every few days is never disabled, and its
 * deliveries used to stay pending for ever, read again by every sweep and never removed. And a sweep ran its batches
 * back to back, deliveries first: the received events waited for every delivery batch to be done.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class ExpiryAndPacingTest {

    @Inject
    AgroalDataSource db;

    @Inject
    RetentionSweeper retention;

    @Test
    void aPendingDeliveryPastTheRetentionEndsExhaustedIsAnnouncedAndIsSwept() throws Exception {
        try (Receiver receiver = new Receiver(); TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            String id = subscribe(receiver.url());
            String stale = pending(id, 45, false);
            String inFlight = pending(id, 45, true);
            String recent = pending(id, 2, false);

            retention.soon();
            String announced = events.await(r -> r.value().contains(EventTypes.WEBHOOK_EXHAUSTED) && r.value().contains(stale),
                    Duration.ofSeconds(30)).value();
            assertTrue(announced.contains("\"expired\""), announced);
            await().atMost(Duration.ofSeconds(30)).until(() -> count(db, "SELECT count(*) FROM delivery WHERE id = ?", stale) == 0);

            assertEquals("PENDING", status(inFlight), "an attempt in flight is left to end");
            assertEquals("PENDING", status(recent));
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }

    /** Both tables past their retention: the received events are not left waiting until every delivery is gone. */
    @Test
    void receivedEventsAndDeliveriesAreSweptInTurn() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            String tag = UUID.randomUUID().toString();
            int deliveries = 3 * RetentionSweeper.BATCH + 500;
            int events = RetentionSweeper.BATCH + 500;
            try (Connection c = db.getConnection()) {
                c.setAutoCommit(false); // both at once: a scheduled sweep sees both or neither
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at,
                                              created_at, finished_at)
                        SELECT 'msg_' || md5(? || i), ?, 'paced-' || i, 'model.loaded', '{}', 'DELIVERED', 1, now(),
                               now() - interval '40 days', now() - interval '40 days'
                        FROM generate_series(1, ?) i""")) {
                    ps.setString(1, id);
                    ps.setString(2, id);
                    ps.setInt(3, deliveries);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO received_event (event_id, type, subject, received_at)
                        SELECT ? || '-' || i, 'model.loaded', NULL, now() - interval '20 days' FROM generate_series(1, ?) i""")) {
                    ps.setString(1, tag);
                    ps.setInt(2, events);
                    ps.executeUpdate();
                }
                c.commit();
            }

            retention.soon();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> count(db, "SELECT count(*) FROM received_event WHERE event_id LIKE ? || '-%'", tag) < events);
            long deliveriesLeft = count(db, "SELECT count(*) FROM delivery WHERE subscription_id = ?", id);
            assertTrue(deliveriesLeft > 0, "the received events' first batch came before the deliveries were all gone");
            await().atMost(Duration.ofSeconds(60)).until(() -> count(db, "SELECT count(*) FROM delivery WHERE subscription_id = ?", id) == 0
                    && count(db, "SELECT count(*) FROM received_event WHERE event_id LIKE ? || '-%'", tag) == 0);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }

    /** A pending delivery created {@code daysAgo}, due tomorrow, leased (an attempt in flight) or not. */
    private String pending(String subscription, int daysAgo, boolean leased) throws SQLException {
        String id = "msg_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at,
                                      created_at, lease_until)
                VALUES (?, ?, ?, 'model.loaded', '{}', 'PENDING', 3, now() + interval '1 day', now() - make_interval(days => ?),
                        CASE WHEN ? THEN now() + interval '10 minutes' END)""")) {
            ps.setString(1, id);
            ps.setString(2, subscription);
            ps.setString(3, "event-" + id);
            ps.setInt(4, daysAgo);
            ps.setBoolean(5, leased);
            ps.executeUpdate();
        }
        return id;
    }

    private String status(String delivery) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT status FROM delivery WHERE id = ?")) {
            ps.setString(1, delivery);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }


}
