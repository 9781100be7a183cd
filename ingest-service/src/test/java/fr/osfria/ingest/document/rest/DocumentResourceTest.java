package fr.osfria.ingest.document.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class DocumentResourceTest {

    @Test
    void anUnknownDocumentIs404AndTheReadIsAudited() throws Exception {
        try (TopicProbe audit = TopicProbe.open(Topics.AUDIT)) {
            given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE))
                    .get("/v1/documents/doc_doesnotexist").then()
                    .statusCode(404).body("error.type", equalTo("not_found_error"));

            JsonNode record = EventJson.MAPPER.readTree(
                    audit.await(r -> "doc_doesnotexist".equals(r.key()), Duration.ofSeconds(20)).value());
            assertEquals("audit.recorded", record.get("type").asText());
            assertEquals("ingest-service", record.at("/data/service").asText());
            assertEquals("test-finance", record.at("/data/keyName").asText());
            assertEquals("document.read", record.at("/data/action").asText());
            assertEquals("not_found", record.at("/data/outcome").asText());
        }
    }

    @Test
    void readingDocumentsNeedsAKey() {
        given().get("/v1/documents/doc_x").then().statusCode(401);
        given().header("Authorization", TestKeys.bearer(TestKeys.REVOKED)).get("/v1/documents/doc_x").then().statusCode(401);
    }

    @Test
    void readyOnlyWithTheDatabaseAndTheBroker() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }
}
