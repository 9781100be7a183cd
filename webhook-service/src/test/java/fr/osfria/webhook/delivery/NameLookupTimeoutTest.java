package fr.osfria.webhook.delivery;

import static fr.osfria.webhook.WebhookTestSupport.subscribe;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.EventTypes;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.webhook.ModelEvents;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * A name server stops answering (names under {@code .blackhole.test} hang past the 10 s lookup
 * deadline): the owner is told to try again, not that the URL is refused. Every attempt fails as
 * {@code lookup_timeout} (the first one lasting the check's wait) and is retried; creating or changing a subscription
 * answers 503 with {@code Retry-After}.
 */
@QuarkusTest
@TestProfile(SlowDns.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class NameLookupTimeoutTest {

    @Inject
    Pool db;

    @Test
    void aNameNotLookedUpInTimeIsALookupTimeoutNotARefusedUrl() {
        String id = subscribe("http://late.blackhole.test:9/hook"); // created while the name still resolves
        SlowDns.blackHole = new CountDownLatch(1);
        try {
            ModelEvents.publish(1, "/osfria/test", new ConcurrentHashMap<>());

            // meanwhile, a subscription to another name of the same name server: 503 at the deadline, not a 400
            long start = System.nanoTime();
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                    .body(Map.of("url", "http://new.blackhole.test:9/hook", "events", List.of(EventTypes.MODEL_LOADED)))
                    .post("/v1/webhooks").then().statusCode(503).header("Retry-After", "5")
                    .body("error.code", equalTo("lookup_timeout"))
                    .body("error.message", equalTo("'url' could not be checked: the host new.blackhole.test could not be"
                            + " looked up in time; try again later"));
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 20, "answered at the 10 s deadline");
            // the same name while its lookup still hangs: at once, and so is a change of a subscription's URL
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                    .body(Map.of("url", "http://new.blackhole.test:9/hook")).put("/v1/webhooks/" + id)
                    .then().statusCode(503).header("Retry-After", "5").body("error.code", equalTo("lookup_timeout"))
                    .body("error.message", containsString("try again later"));
            assertEquals("http://late.blackhole.test:9/hook", given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                    .get("/v1/webhooks/" + id).then().statusCode(200).extract().path("url"), "the subscription is unchanged");

            // the delivery: its attempts fail as lookup time-outs and are retried (the test schedule is short: it may
            // be exhausted by now on a loaded machine, as any failing delivery)
            await().atMost(Duration.ofSeconds(30)).until(() -> attempts(id).size() >= 2);
            List<Row> attempts = attempts(id);
            assertTrue(attempts.stream().allMatch(a -> "lookup_timeout".equals(a.getString("error"))),
                    "every attempt a lookup time-out");
            // it lasted the check's wait, not 0 ms; a re-claim after the profile's 6 s lease may join the lookup just
            // as it fails, and last 0 ms: one attempt at least lasted the wait, none a negative time
            assertTrue(attempts.stream().allMatch(a -> a.getInteger("duration_ms") >= 0), "no negative duration");
            int longest = attempts.stream().mapToInt(a -> a.getInteger("duration_ms")).max().orElse(0);
            assertTrue(longest > 0, "an attempt lasted the check: " + longest + " ms");
            Row delivery = db.preparedQuery("SELECT status, last_error FROM delivery WHERE subscription_id = $1")
                    .execute(Tuple.of(id)).await().atMost(Duration.ofSeconds(10)).iterator().next();
            assertTrue(List.of("PENDING", "EXHAUSTED").contains(delivery.getString("status")), delivery.getString("status"));
            assertEquals("lookup_timeout", delivery.getString("last_error"));
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/webhooks/" + id + "/deliveries")
                    .then().statusCode(200).body("data[0].history[0].error", equalTo("lookup_timeout"));
        } finally {
            CountDownLatch hole = SlowDns.blackHole;
            SlowDns.blackHole = null;
            hole.countDown();
            given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).delete("/v1/webhooks/" + id);
        }
    }

    /** The subscription's attempts (error, duration_ms), oldest first. */
    private List<Row> attempts(String subscription) {
        RowSet<Row> rows = db.preparedQuery("SELECT a.error, a.duration_ms FROM delivery_attempt a"
                + " JOIN delivery d ON d.id = a.delivery_id WHERE d.subscription_id = $1 ORDER BY a.attempted_at, a.id")
                .execute(Tuple.of(subscription)).await().atMost(Duration.ofSeconds(10));
        List<Row> attempts = new ArrayList<>();
        rows.forEach(attempts::add);
        return attempts;
    }
}
