package fr.osfria.webhook.isolation;

import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static fr.osfria.webhook.WebhookTestSupport.count;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.EventTypes;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.webhook.ModelEvents;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A key holder deletes its subscription while the sender records outcomes of its deliveries, or with a large backlog. The sender's outcome
 * write locks the deliveries it records, then notes the failures on their subscription; the deletion used to lock the
 * subscription, then wait for its deliveries (the foreign key's cascade): PostgreSQL found the deadlock after a
 * second and ended the deletion with a 500 (or the outcome write, whose whole batch was then sent again). The
 * writer is played here by a transaction that takes the same locks in the same order.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class DeletionDuringOutcomeWriteTest {

    @Inject
    AgroalDataSource db;

    @Test
    void aSubscriptionIsDeletedWhileTheSenderHoldsItsDeliveriesAndNotesItsFailures() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).post("/v1/webhooks/" + id + "/ping")
                    .then().statusCode(202);
            await().atMost(Duration.ofSeconds(20)).until(() -> count(db,
                    "SELECT count(*) FROM delivery WHERE subscription_id = ? AND status = 'DELIVERED'", id) == 1);

            CompletableFuture<Integer> deletion;
            try (Connection writer = db.getConnection()) {
                writer.setAutoCommit(false);
                // the outcome write's first step: the deliveries it records
                update(writer, "UPDATE delivery SET attempts = attempts WHERE subscription_id = ?", id);
                deletion = CompletableFuture.supplyAsync(() -> given()
                        .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).statusCode());
                await().atMost(Duration.ofSeconds(10)).until(() -> deletion.isDone() || lockedOrGone(id));
                // its second step: a failure noted on their subscription
                update(writer, "UPDATE subscription SET failing_since = now() WHERE id = ?", id);
                writer.commit();
            }
            assertEquals(204, deletion.get(30, TimeUnit.SECONDS));
            // its deliveries go within seconds (swept once the writer lets them go)
            await().atMost(Duration.ofSeconds(30)).until(() -> count(db, "SELECT count(*) FROM delivery WHERE subscription_id = ?", id) == 0);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + id).then().statusCode(404);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).post("/v1/webhooks/" + id + "/ping")
                    .then().statusCode(404);
        }
    }

    /**
     * A subscription whose receiver was down for days has a large backlog. Its deletion used to delete the backlog in
     * its own transaction, holding the subscription's row, and every key's intake behind it (the intake locks the
     * subscriptions it inserts for), for as long as that took. It answers at once now; the backlog is swept in small
     * batches while the neighbour's deliveries go on.
     */
    @Test
    void deletingASubscriptionWithALargeBacklogHoldsNoOneElse() throws Exception {
        try (Receiver neighbour = new Receiver(); Receiver doomed = new Receiver()) {
            String neighbourId = subscribe(neighbour.url());
            String doomedId = subscribe(doomed.url());
            try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at, created_at)
                    SELECT 'msg_' || md5(? || i), ?, 'backlog-' || i, 'model.loaded', '{}', 'PENDING', 3,
                           now() + interval '1 day', now() - interval '3 days'
                    FROM generate_series(1, 100000) i""")) {
                ps.setString(1, doomedId);
                ps.setString(2, doomedId);
                ps.executeUpdate();
            }
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + doomedId)
                    .then().statusCode(204);
            assertTrue(count(db, "SELECT count(*) FROM delivery WHERE subscription_id = ?", doomedId) > 0,
                    "the deletion answered only once its whole backlog was deleted");

            List<String> models = ModelEvents.publish(3, "/osfria/test", new ConcurrentHashMap<>());
            await().atMost(Duration.ofSeconds(30)).until(() -> models.stream().allMatch(m -> neighbour.received.stream()
                    .anyMatch(r -> ModelEvents.modelOf(r.body()).equals(m))));
            await().atMost(Duration.ofSeconds(90)).until(() -> count(db,
                    "SELECT count(*) FROM delivery WHERE subscription_id = ?", doomedId) == 0
                    && count(db, "SELECT count(*) FROM deleted_subscription WHERE id = ?", doomedId) == 0);
            assertTrue(doomed.received.isEmpty(), "a deleted subscription's backlog is never sent");
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + neighbourId)
                    .then().statusCode(204);
        }
    }

    /** The deletion has begun: the subscription's row is locked by it, or already gone. */
    private boolean lockedOrGone(String id) throws SQLException {
        try (Connection c = db.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM subscription WHERE id = ? FOR UPDATE NOWAIT")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return !rs.next();
            }
        } catch (SQLException e) {
            if ("55P03".equals(e.getSQLState())) { // lock_not_available
                return true;
            }
            throw e;
        }
    }

    private static void update(Connection c, String sql, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, id);
            ps.executeUpdate();
        }
    }


}
