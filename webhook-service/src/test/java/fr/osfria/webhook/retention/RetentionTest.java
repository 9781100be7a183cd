package fr.osfria.webhook.retention;

import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static fr.osfria.webhook.WebhookTestSupport.count;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.events.EventTypes;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.webhook.WebhookConfig;
import fr.osfria.webhook.delivery.DeliverySender;
import fr.osfria.webhook.delivery.Receiver;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.junit.jupiter.api.Test;

/**
 * Every event adds a delivery row per subscription and a received-event row, and nothing used to remove them: at
 * thousands of deliveries a second the database filled. Finished deliveries past the retention (30 days) go with their
 * attempts, pending ones in flight stay however old; received events go once Kafka can no longer deliver them again (15 days).
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class RetentionTest {

    @Inject
    AgroalDataSource db;

    @Inject
    RetentionSweeper retention;

    @Inject
    io.vertx.mutiny.sqlclient.Pool pool;

    @Inject
    WebhookConfig config;

    @Inject
    MeterRegistry metrics;

    @Inject
    @Channel(DeliverySender.PUBLIC_EVENTS_OUT)
    MutinyEmitter<String> events;

    @Test
    void finishedDeliveriesAndReceivedEventsPastTheirRetentionAreRemovedPendingOnesStay() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            List<String> expired = List.of(delivery(id, "DELIVERED", 31), delivery(id, "FAILED", 31), delivery(id, "EXHAUSTED", 45),
                    delivery(id, "SKIPPED", 31));
            for (String d : expired) {
                attempt(d);
            }
            String oldPending = delivery(id, "PENDING", 60);
            leased(oldPending); // an attempt in flight: not ended by the retention
            String recent = delivery(id, "FAILED", 29);
            attempt(recent);
            String oldEvent = receivedEvent(16);
            String recentEvent = receivedEvent(14);

            retention.soon();
            await().atMost(Duration.ofSeconds(30)).until(() -> count(db, "SELECT count(*) FROM delivery WHERE subscription_id = ?", id) == 2
                    && count(db, "SELECT count(*) FROM received_event WHERE event_id = ?", oldEvent) == 0);

            assertEquals(1, count(db, "SELECT count(*) FROM delivery WHERE id = ?", oldPending), "a pending delivery in flight is kept however old");
            assertEquals(1, count(db, "SELECT count(*) FROM delivery WHERE id = ?", recent));
            assertEquals(1, count(db, "SELECT count(*) FROM delivery_attempt WHERE delivery_id = ?", recent));
            for (String d : expired) {
                assertEquals(0, count(db, "SELECT count(*) FROM delivery_attempt WHERE delivery_id = ?", d), "attempts go with their delivery");
            }
            assertEquals(1, count(db, "SELECT count(*) FROM received_event WHERE event_id = ?", recentEvent));
            // the listing and the replays see what is left
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + id + "/deliveries")
                    .then().statusCode(200).body("data.id", containsInAnyOrder(oldPending, recent));
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .post("/v1/webhooks/" + id + "/deliveries/" + expired.get(0) + "/replay").then().statusCode(404);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .post("/v1/webhooks/" + id + "/replay?since=2000-01-01T00:00:00Z").then().statusCode(202);
            given().get("/q/metrics").then().statusCode(200).body(org.hamcrest.Matchers.containsString(
                    "osfria_webhook_rows_removed_total{reason=\"retention\",table=\"delivery\"}"));
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }

    /**
     * A delivery a replay or an outcome write holds is skipped, not waited for: the others go meanwhile, and it goes
     * on a later sweep once let go.
     */
    @Test
    void aSweepSkipsADeliveryAnotherTransactionHoldsAndTakesItLater() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            String held = delivery(id, "EXHAUSTED", 31);
            attempt(held);
            List<String> free = List.of(delivery(id, "DELIVERED", 31), delivery(id, "FAILED", 31), delivery(id, "SKIPPED", 31));
            try (Connection holder = db.getConnection()) {
                holder.setAutoCommit(false);
                try (PreparedStatement ps = holder.prepareStatement("SELECT 1 FROM delivery WHERE id = ? FOR UPDATE")) {
                    ps.setString(1, held);
                    ps.executeQuery().close();
                }
                retention.soon();
                await().atMost(Duration.ofSeconds(30)).until(() -> free.stream().allMatch(d -> gone(d)));
                assertEquals(1, count(db, "SELECT count(*) FROM delivery WHERE id = ?", held));
                holder.commit();
            }
            retention.soon();
            await().atMost(Duration.ofSeconds(30)).until(() -> gone(held)
                    && count(db, "SELECT count(*) FROM delivery_attempt WHERE delivery_id = ?", held) == 0);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }

    /**
     * Two replicas sweep at once (two sweepers over the same database, as {@code TwoReplicasTest} plays a second
     * sender): every expired delivery of three subscriptions, several batches each, goes exactly once between them,
     * and what is not expired stays.
     */
    @Test
    void twoReplicasSweepingAtOnceRemoveEachExpiredDeliveryOnce() throws Exception {
        try (Receiver receiver = new Receiver()) {
            List<String> subscriptions = List.of(subscribe(receiver.url()), subscribe(receiver.url()), subscribe(receiver.url()));
            int perSubscription = 5_000; // more than two batches each: a batch ends inside a subscription
            try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at,
                                          created_at, finished_at)
                    SELECT 'msg_' || md5(s || i), s, 'expired-' || i, 'model.loaded', '{}', 'DELIVERED', 1, now(),
                           now() - interval '40 days', now() - interval '40 days'
                    FROM unnest(?::varchar[]) s, generate_series(1, ?) i""")) {
                ps.setArray(1, c.createArrayOf("varchar", subscriptions.toArray()));
                ps.setInt(2, perSubscription);
                ps.executeUpdate();
            }
            List<String> kept = List.of(delivery(subscriptions.get(0), "DELIVERED", 1), delivery(subscriptions.get(2), "PENDING", 1));
            SimpleMeterRegistry firstMetrics = new SimpleMeterRegistry();
            SimpleMeterRegistry secondMetrics = new SimpleMeterRegistry();
            double byTheService = removedBy(metrics); // the service's own sweeper may take part too, on its schedule
            RetentionSweeper first = new RetentionSweeper(pool, config, firstMetrics, events);
            RetentionSweeper second = new RetentionSweeper(pool, config, secondMetrics, events);
            first.soon();
            second.soon();
            await().atMost(Duration.ofSeconds(60)).until(() -> expiredLeft(subscriptions) == 0);
            double removed = removedBy(firstMetrics) + removedBy(secondMetrics) + removedBy(metrics) - byTheService;
            assertEquals(3 * perSubscription, removed, 0.0, "each expired delivery removed once, by one replica or the other");
            for (String d : kept) {
                assertEquals(1, count(db, "SELECT count(*) FROM delivery WHERE id = ?", d));
            }
            for (String s : subscriptions) {
                given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + s).then().statusCode(204);
            }
        }
    }

    /** A batch statement that runs past its time-out is ended by PostgreSQL: a sweep never waits on it for ever. */
    @Test
    void aBatchStatementPastItsTimeOutIsEnded() {
        long start = System.nanoTime();
        Throwable e = org.junit.jupiter.api.Assertions.assertThrows(Throwable.class, () -> SweepLoop.batch(pool, Duration.ofMillis(300),
                "SELECT pg_sleep(20)", io.vertx.mutiny.sqlclient.Tuple.tuple()).await().atMost(Duration.ofSeconds(15)));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("statement timeout"), e.toString());
        org.junit.jupiter.api.Assertions.assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10);
    }

    private long expiredLeft(List<String> subscriptions) throws SQLException {
        long left = 0;
        for (String s : subscriptions) {
            left += count(db, "SELECT count(*) FROM delivery WHERE subscription_id = ? AND event_id LIKE 'expired-%'", s);
        }
        return left;
    }

    private static double removedBy(MeterRegistry metrics) {
        return metrics.get("osfria.webhook.rows.removed").tag("table", "delivery").tag("reason", "retention").counter().count();
    }

    /** A delivery of the subscription, created {@code daysAgo} and, unless pending, finished an hour later. */
    private String delivery(String subscription, String status, int daysAgo) throws SQLException {
        String id = "msg_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at,
                                      created_at, finished_at)
                VALUES (?, ?, ?, 'model.loaded', '{}', ?, 1, now() + interval '1 day', now() - make_interval(days => ?),
                        CASE WHEN ? = 'PENDING' THEN NULL ELSE now() - make_interval(days => ?) + interval '1 hour' END)""")) {
            ps.setString(1, id);
            ps.setString(2, subscription);
            ps.setString(3, "event-" + id);
            ps.setString(4, status);
            ps.setInt(5, daysAgo);
            ps.setString(6, status);
            ps.setInt(7, daysAgo);
            ps.executeUpdate();
        }
        return id;
    }

    private void leased(String delivery) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE delivery SET lease_until = now() + interval '10 minutes' WHERE id = ?")) {
            ps.setString(1, delivery);
            ps.executeUpdate();
        }
    }

    private void attempt(String delivery) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO delivery_attempt (delivery_id, attempted_at, status_code, duration_ms, error)
                VALUES (?, now(), 500, 12, NULL)""")) {
            ps.setString(1, delivery);
            ps.executeUpdate();
        }
    }

    private String receivedEvent(int daysAgo) throws SQLException {
        String id = UUID.randomUUID().toString();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO received_event (event_id, type, subject, received_at)
                VALUES (?, 'model.loaded', NULL, now() - make_interval(days => ?))""")) {
            ps.setString(1, id);
            ps.setInt(2, daysAgo);
            ps.executeUpdate();
        }
        return id;
    }

    private boolean gone(String delivery) {
        try {
            return count(db, "SELECT count(*) FROM delivery WHERE id = ?", delivery) == 0;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }


}
