package fr.osfria.webhook.isolation;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.events.EventTypes;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A key holder deletes its subscription while the sender records outcomes of its deliveries. The sender's outcome
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
            await().atMost(Duration.ofSeconds(20)).until(() -> count(
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
            assertEquals(0, count("SELECT count(*) FROM delivery WHERE subscription_id = ?", id), "its deliveries are gone");
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + id).then().statusCode(404);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).post("/v1/webhooks/" + id + "/ping")
                    .then().statusCode(404);
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

    private long count(String sql, String id) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static String subscribe(String url) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("url", url, "events", List.of(EventTypes.MODEL_LOADED))).post("/v1/webhooks")
                .then().statusCode(201).extract().path("id");
    }
}
