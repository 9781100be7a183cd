package fr.osfria.webhook.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.events.EventTypes;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.webhook.delivery.Receiver;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * An ordinary key holder creates subscription after subscription, all to "*". Each event becomes one delivery row
 * per subscription, written in the transaction that takes in everyone's events: unbounded, one key multiplied the
 * intake's work (and the table) for every other key. A key has at most {@code osfria.webhook.max-subscriptions-per-key}
 * (20), concurrent creations included.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class SubscriptionFloodAttackTest {

    private static final int LIMIT = 20;

    @Test
    void aKeyCannotMultiplyEveryonesIntakeWithSubscriptions() throws Exception {
        try (Receiver receiver = new Receiver()) {
            int before = mine(TestKeys.FINANCE).size(); // other tests' leftovers, in the shared database
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<CompletableFuture<Response>> attempts = new ArrayList<>();
                for (int i = 0; i < LIMIT - before + 15; i++) {
                    attempts.add(CompletableFuture.supplyAsync(() -> create(TestKeys.FINANCE, receiver.url()), pool));
                }
                List<Response> answers = attempts.stream().map(CompletableFuture::join).toList();
                assertEquals(LIMIT - before, answers.stream().filter(r -> r.statusCode() == 201).count(), "created at once");
                answers.stream().filter(r -> r.statusCode() != 201).forEach(r -> {
                    assertEquals(409, r.statusCode());
                    assertEquals("subscription_limit", r.jsonPath().getString("error.code"));
                });
            } finally {
                pool.shutdown();
            }
            List<String> mine = mine(TestKeys.FINANCE);
            assertEquals(LIMIT, mine.size());
            create(TestKeys.FINANCE, receiver.url()).then().statusCode(409)
                    .body("error.message", containsString("delete one first"));

            // another key is not held by this one's subscriptions
            String other = create(TestKeys.HR, receiver.url()).then().statusCode(201).extract().path("id");
            // and a deletion makes room again
            delete(TestKeys.FINANCE, mine.get(0));
            String again = create(TestKeys.FINANCE, receiver.url()).then().statusCode(201).extract().path("id");

            delete(TestKeys.HR, other);
            delete(TestKeys.FINANCE, again);
            mine.stream().skip(1).forEach(id -> delete(TestKeys.FINANCE, id));
        }
    }

    @Test
    void anAdminKeyIsNotBound() throws Exception {
        try (Receiver receiver = new Receiver()) {
            List<String> created = new ArrayList<>();
            for (int i = 0; i <= LIMIT; i++) {
                created.add(create(TestKeys.ADMIN, receiver.url()).then().statusCode(201).extract().path("id"));
            }
            created.forEach(id -> delete(TestKeys.ADMIN, id));
        }
    }

    /** The ordinary key's subscriptions. */
    private static List<String> mine(String key) {
        return given().header("Authorization", TestKeys.bearer(key)).get("/v1/webhooks")
                .then().statusCode(200).extract().jsonPath().getList("data.id");
    }

    private static Response create(String key, String url) {
        return given().header("Authorization", TestKeys.bearer(key)).contentType(ContentType.JSON)
                .body(Map.of("url", url, "events", List.of("*"))).post("/v1/webhooks");
    }

    private static void delete(String key, String id) {
        given().header("Authorization", TestKeys.bearer(key)).delete("/v1/webhooks/" + id).then().statusCode(204);
    }
}
