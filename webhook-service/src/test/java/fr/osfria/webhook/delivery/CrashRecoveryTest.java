package fr.osfria.webhook.delivery;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a crashed replica leaves behind: deliveries it had claimed and never finished. Once their lease runs out
 * another sender takes them; before that, nobody does (the crashed one might still be sending).
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class CrashRecoveryTest {

    @Inject
    Pool db;

    @Inject
    DeliverySender sender;

    @Test
    void deliveriesLeftByACrashedSenderAreSentOnceTheirLeaseRunsOut() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String sub = given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                    .body(Map.of("url", receiver.url(), "events", List.of("document.deleted"))).post("/v1/webhooks").then()
                    .statusCode(201).extract().path("id");
            OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
            insert("msg_expired_lease_" + sub.substring(3, 11), sub, "e1", now.minusMinutes(5), now.minusSeconds(10));
            insert("msg_live_lease_" + sub.substring(3, 11), sub, "e2", now.minusMinutes(5), now.plusMinutes(10));
            sender.wake();
            await().atMost(Duration.ofSeconds(20)).until(() -> receiver.received.size() >= 1);
            Thread.sleep(1500);
            assertEquals(List.of("msg_expired_lease_" + sub.substring(3, 11)),
                    receiver.received.stream().map(r -> r.headers().get("webhook-id")).toList());
        }
    }

    private void insert(String id, String subscription, String eventId, OffsetDateTime created, OffsetDateTime leaseUntil) {
        db.preparedQuery("""
                        INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at,
                          lease_until, created_at)
                        VALUES ($1, $2, $3, 'document.deleted', '{"event":"document.deleted","timestamp":"x","data":{}}', 'PENDING', 0, $4, $5, $4)""")
                .execute(Tuple.of(id, subscription, eventId, created, leaseUntil)).await().indefinitely();
    }
}
