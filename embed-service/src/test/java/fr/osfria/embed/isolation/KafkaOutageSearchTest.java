package fr.osfria.embed.isolation;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.embed.FreshIndex;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.Ports;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The broker out of reach for the audit: a search answers only once its audit record is durable, and it used to wait
 * for the producer's own limits (60 s to learn the topic) and then answer 500, holding a worker and the client all
 * that time. Now it is answered 503 with Retry-After after {@code AuditLog.PATIENCE} (10 s).
 */
@QuarkusTest
@TestProfile(KafkaOutageSearchTest.AuditBrokerUnreachable.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(FreshIndex.class)
class KafkaOutageSearchTest {

    /** The audit channel points at a port where no broker listens; the other channels keep the test broker. */
    public static class AuditBrokerUnreachable implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("mp.messaging.outgoing.audit.bootstrap.servers", "localhost:" + Ports.free(),
                    "quarkus.http.test-timeout", "300s");
        }
    }

    @Test
    void aSearchWhoseAuditCannotBeWrittenIsAnswered503Promptly() {
        long start = System.nanoTime();
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body("{\"query\":\"panne du courtier\",\"collection\":\"knowledge-base\",\"mode\":\"keyword\"}")
                .post("/v1/search").then().statusCode(503).header("Retry-After", "5")
                .body("error.code", equalTo("audit_unavailable"));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        System.out.printf("OUTAGE search answered 503 in %d s%n", seconds);
        // the patience is 10 s; the producer's own limit, which the answer waited for before, is 60 s
        assertTrue(seconds < 45, "the search waited " + seconds + " s for its audit record");
    }

}
