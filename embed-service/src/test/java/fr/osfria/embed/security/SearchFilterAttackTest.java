package fr.osfria.embed.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.embed.FreshIndex;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Two attacks through {@code filters} of {@code /v1/search}: unbounded values (every one becomes a term of the
 * store's query, and of the audit record), and reading a confidential metadata value back from the audit trail,
 * where every search's filters are kept.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(FreshIndex.class)
class SearchFilterAttackTest {

    private static final String KB = "knowledge-base";

    @Test
    void anImmenseFilterIsRefusedWithA400() {
        search(TestKeys.FINANCE, Map.of("projet", "x".repeat(200_000)))
                .statusCode(400).body("error.code", equalTo("invalid_request")).body("error.message", containsString("2048"));
        Map<String, Object> many = new HashMap<>();
        for (int i = 0; i < 65; i++) {
            many.put("cle" + i, "v");
        }
        search(TestKeys.FINANCE, many).statusCode(400).body("error.message", containsString("64"));
        search(TestKeys.FINANCE, Map.of("projet", List.of("y".repeat(2_000), "y".repeat(2_000), "y".repeat(2_000),
                "y".repeat(2_000), "y".repeat(2_000), "y".repeat(2_000), "y".repeat(2_000), "y".repeat(2_000), "y".repeat(2_000))))
                .statusCode(400).body("error.message", containsString("in all"));
        search(TestKeys.FINANCE, Map.of("projet", "x".repeat(2_048))).statusCode(200);
    }

    @Test
    void theAuditTrailKeepsNoFilterValueInClear() throws Exception {
        String key = "projet" + UUID.randomUUID().toString().substring(0, 8);
        String secret = "Rachat-" + UUID.randomUUID();
        try (TopicProbe audit = TopicProbe.open(Topics.AUDIT)) {
            search(TestKeys.FINANCE, Map.of(key, secret, "department", "finance")).statusCode(200);
            ConsumerRecord<String, String> record = audit.await(r -> r.value().contains(key), Duration.ofSeconds(30));
            assertFalse(record.value().contains(secret), "the audit keeps the filter value in clear: " + record.value());
            JsonNode filters = EventJson.MAPPER.readTree(EventJson.MAPPER.readTree(record.value()).at("/data/detail").asText())
                    .path("filters");
            assertTrue(filters.has(key), "the audit still says which metadata key was filtered on: " + filters);
            assertTrue(filters.path("department").toString().contains("finance"), "department stays readable: " + filters);
        }
    }

    private static ValidatableResponse search(String key, Map<String, Object> filters) {
        return given().header("Authorization", TestKeys.bearer(key)).contentType(ContentType.JSON)
                .body(Map.of("query", "politique salariale", "collection", KB, "filters", filters, "mode", "dense"))
                .post("/v1/search").then();
    }
}
