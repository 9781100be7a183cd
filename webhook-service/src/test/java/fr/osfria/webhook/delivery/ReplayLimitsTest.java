package fr.osfria.webhook.delivery;

import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static fr.osfria.webhook.WebhookTestSupport.count;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.events.EventTypes;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A replay of a delivery in flight cleared its lease: the sender claimed it again and sent it twice at once. A replay-since took every failed delivery of the period in one statement, however many.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class ReplayLimitsTest {

    @Inject
    AgroalDataSource db;

    @Test
    void aDeliveryInFlightIsNotReplayedOneWaitingForItsRetryOrFailedIs() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            String delivery = "msg_replay_" + id;
            execute("""
                    INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at,
                                          created_at, lease_until)
                    VALUES (?, ?, 'in-flight', 'model.loaded', '{}', 'PENDING', 1, now(), now(), now() + interval '10 minutes')""",
                    delivery, id);
            String before = row(delivery);

            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .post("/v1/webhooks/" + id + "/deliveries/" + delivery + "/replay")
                    .then().statusCode(409).body("error.code", equalTo("delivery_in_flight"));
            assertEquals(before, row(delivery), "the lease and the delivery are left as they were");
            assertEquals(0, count(db, "SELECT count(*) FROM delivery_attempt WHERE delivery_id = ?", delivery));

            // its attempt ended and failed: a retry an hour away is brought forward to now, and sent
            execute("UPDATE delivery SET lease_until = NULL, next_attempt_at = now() + interval '1 hour' WHERE id = ?", delivery);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .post("/v1/webhooks/" + id + "/deliveries/" + delivery + "/replay")
                    .then().statusCode(202).body("replayed", equalTo(1));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> !receiver.received.isEmpty());
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> count(db, "SELECT count(*) FROM delivery WHERE id = ? AND status = 'DELIVERED'", delivery) == 1);

            execute("UPDATE delivery SET status = 'FAILED', lease_until = NULL, finished_at = now() WHERE id = ? AND subscription_id = ?",
                    delivery, id);
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .post("/v1/webhooks/" + id + "/deliveries/" + delivery + "/replay")
                    .then().statusCode(202).body("replayed", equalTo(1));
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }

    @Test
    void aReplaySinceTakesAtMostItsLimitAndSaysMoreAreLeft() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = subscribe(receiver.url());
            // inactive: the replayed deliveries fail at once, with nothing sent
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                    .body(Map.of("active", false)).put("/v1/webhooks/" + id).then().statusCode(200);
            execute("""
                    INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at,
                                          created_at, finished_at)
                    SELECT 'msg_' || md5(? || i), ?, 'failed-' || i, 'model.loaded', '{}', 'FAILED', 1, now(), now(), now()
                    FROM generate_series(1, 10001) i""", id, id);

            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).post("/v1/webhooks/" + id + "/replay")
                    .then().statusCode(202).body("replayed", equalTo(10_000)).body("more", equalTo(true));
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id).then().statusCode(204);

            String other = subscribe(receiver.url());
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).post("/v1/webhooks/" + other + "/replay")
                    .then().statusCode(202).body("replayed", equalTo(0)).body("more", nullValue());
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + other).then().statusCode(204);
        }
    }

    private String row(String delivery) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT status || ' ' || attempts || ' ' || lease_until || ' ' || next_attempt_at FROM delivery WHERE id = ?")) {
            ps.setString(1, delivery);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private void execute(String sql, String... args) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }


}
