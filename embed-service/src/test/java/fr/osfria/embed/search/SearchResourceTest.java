package fr.osfria.embed.search;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.time.Duration;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
class SearchResourceTest {

    private static io.restassured.response.ValidatableResponse search(String key, String body) {
        return given().header("Authorization", TestKeys.bearer(key)).contentType(ContentType.JSON).body(body)
                .post("/v1/search").then();
    }

    @Test
    void aCollectionTheKeyCannotReadIsHiddenAndTheAttemptAudited() throws Exception {
        try (TopicProbe audit = TopicProbe.open(Topics.AUDIT)) {
            search(TestKeys.FINANCE, "{\"query\":\"frais\",\"collection\":\"hr-secret\"}")
                    .statusCode(404).body("error.type", equalTo("not_found_error"));
            JsonNode record = EventJson.MAPPER.readTree(audit.await(r -> r.value().contains("hr-secret"),
                    Duration.ofSeconds(20)).value());
            assertEquals("search", record.at("/data/action").asText());
            assertEquals("test-finance", record.at("/data/keyName").asText());
            assertEquals("not_found", record.at("/data/outcome").asText());
        }
    }

    @Test
    void badSearchRequestsAre400() {
        search(TestKeys.FINANCE, "{\"collection\":\"knowledge-base\"}").statusCode(400);
        search(TestKeys.FINANCE, "{\"query\":\"\",\"collection\":\"knowledge-base\"}").statusCode(400);
        search(TestKeys.FINANCE, "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"top_k\":0}").statusCode(400);
        search(TestKeys.FINANCE, "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"top_k\":101}").statusCode(400)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.message", equalTo("topK: must be less than or equal to 100"));
        search(TestKeys.FINANCE, "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"mode\":\"magic\"}").statusCode(400);
        search(TestKeys.FINANCE, "{\"query\":\"x\",\"collection\":\"knowledge-base\",\"top_k\":\"five\"}").statusCode(400);
        search(TestKeys.FINANCE, "[1,2,3]").statusCode(400);
        search(TestKeys.FINANCE, "{\"query\":\"" + "x".repeat(5000) + "\",\"collection\":\"knowledge-base\"}").statusCode(400);
    }

    @Test
    void searchNeedsAKey() {
        given().contentType(ContentType.JSON).body("{\"query\":\"x\",\"collection\":\"knowledge-base\"}")
                .post("/v1/search").then().statusCode(401);
    }
}
