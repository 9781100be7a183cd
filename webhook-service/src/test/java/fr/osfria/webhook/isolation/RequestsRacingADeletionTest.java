package fr.osfria.webhook.isolation;

import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static fr.osfria.webhook.WebhookTestSupport.count;
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
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
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
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A key holder's {@code PUT}, replay or replay-since reads the subscription, then writes; a deletion (or a sweep of the
 * delivery) that commits in between left the write facing a row that is gone: Hibernate's update of a deleted row, or
 * the kept success's attempt row referencing a deleted delivery, answered 500, and a replay-since turned a deleted
 * subscription's deliveries back to pending with a 202. The deletion is played here by a transaction that has deleted
 * the rows and commits once the request has reached its write (waits on the rows, or has answered).
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class RequestsRacingADeletionTest {

    @Inject
    AgroalDataSource db;

    @Test
    void anUpdateRacingTheDeletionAnswers404AndRecreatesNothing() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            ExtractableResponse<Response> answer = whileDeleting(id, "DELETE FROM subscription WHERE id = ?", () -> given()
                    .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                    .body(Map.of("active", false)).put("/v1/webhooks/" + id).then().extract());
            assertNotFound(answer);
            assertEquals(0, count(db, "SELECT count(*) FROM subscription WHERE id = ?", id));
        }
    }

    @Test
    void aReplayRacingTheDeletionAnswers404AndSendsNothing() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            String delivery = deliveredPing(id, receiver);
            ExtractableResponse<Response> answer = whileDeleting(id, "DELETE FROM subscription WHERE id = ?", () -> replay(id, delivery));
            assertNotFound(answer);
            assertEquals(0, count(db, "SELECT count(*) FROM delivery WHERE subscription_id = ? AND status = 'PENDING'", id));
        }
    }

    /** A sweep (of a deleted subscription's deliveries, or of deliveries past their retention) removes the delivery meanwhile. */
    @Test
    void aReplayRacingTheSweepOfItsDeliveryAnswers404() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            String delivery = deliveredPing(id, receiver);
            ExtractableResponse<Response> answer = whileDeleting(delivery, "DELETE FROM delivery WHERE id = ?", () -> replay(id, delivery));
            assertNotFound(answer);
            assertEquals(0, count(db, "SELECT count(*) FROM delivery_attempt WHERE delivery_id = ?", delivery));
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }

    @Test
    void aReplaySinceRacingTheDeletionAnswers404AndRevivesNothing() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at,
                                          created_at, finished_at)
                    SELECT 'msg_' || md5(? || i), ?, 'failed-' || i, 'model.loaded', '{}', 'EXHAUSTED', 8, now(), now(), now()
                    FROM generate_series(1, 20) i""")) {
                ps.setString(1, id);
                ps.setString(2, id);
                ps.executeUpdate();
            }
            ExtractableResponse<Response> answer = whileDeleting(id, "DELETE FROM subscription WHERE id = ?", () -> given()
                    .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).post("/v1/webhooks/" + id + "/replay").then().extract());
            assertNotFound(answer);
            assertEquals(0, count(db, "SELECT count(*) FROM delivery WHERE subscription_id = ? AND status = 'PENDING'", id));
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> receiver.received.isEmpty());
        }
    }

    /**
     * Runs the request while a transaction has deleted the row (as {@code SubscriptionRemoval} or a sweep batch does,
     * tombstone included for a subscription), and commits the deletion once the request waits on that row or has
     * answered: the request read the row before the deletion committed, and writes after.
     */
    private ExtractableResponse<Response> whileDeleting(String id, String deletion, Supplier<ExtractableResponse<Response>> request)
            throws Exception {
        CompletableFuture<ExtractableResponse<Response>> answer;
        try (Connection deleter = db.getConnection()) {
            deleter.setAutoCommit(false);
            update(deleter, deletion, id);
            if (deletion.contains("subscription")) {
                update(deleter, "INSERT INTO deleted_subscription (id, deleted_at) VALUES (?, now())", id);
            }
            answer = CompletableFuture.supplyAsync(request);
            await().atMost(Duration.ofSeconds(10)).until(() -> answer.isDone() || waitingOnALock());
            deleter.commit();
        }
        return answer.get(30, TimeUnit.SECONDS);
    }

    private static void assertNotFound(ExtractableResponse<Response> answer) {
        assertEquals(404, answer.statusCode(), answer.body().asString());
        assertEquals("not_found", answer.path("error.code"), answer.body().asString());
    }

    /** A statement of the service waits for a lock (here, the deleter's). */
    private boolean waitingOnALock() throws SQLException {
        try (Connection c = db.getConnection(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT count(*) FROM pg_locks WHERE NOT granted")) {
            rs.next();
            return rs.getLong(1) > 0;
        }
    }

    private static ExtractableResponse<Response> replay(String id, String delivery) {
        return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .post("/v1/webhooks/" + id + "/deliveries/" + delivery + "/replay").then().extract();
    }

    /** A ping, delivered: its success is kept on the delivery's row. */
    private String deliveredPing(String id, Receiver receiver) throws SQLException {
        String delivery = given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).post("/v1/webhooks/" + id + "/ping")
                .then().statusCode(202).extract().path("delivery_id");
        await().atMost(Duration.ofSeconds(20)).until(() -> count(db,
                "SELECT count(*) FROM delivery WHERE id = ? AND status = 'DELIVERED'", delivery) == 1);
        return delivery;
    }

    private static void update(Connection c, String sql, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, id);
            ps.executeUpdate();
        }
    }


}
