package fr.osfria.ingest.document.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * A collection no collection can be named, listed by a key that may read every collection: a NUL failed the query
     * (an internal error and a stack trace per request), a name over 128 characters the audit. Answered as an unknown
     * collection, audited without it.
     */
    @Test
    void listingACollectionThatCannotExistIs404EvenForAnAdmin() throws Exception {
        try (TopicProbe audit = TopicProbe.open(Topics.AUDIT)) {
            java.util.List<String> names = java.util.List.of("\u0000", "kb\u0000", "a".repeat(129));
            for (String collection : names) {
                given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).queryParam("collection", collection)
                        .get("/v1/documents").then()
                        .statusCode(404).body("error.type", equalTo("not_found_error"));
            }
            java.util.function.Predicate<org.apache.kafka.clients.consumer.ConsumerRecord<String, String>> listed =
                    r -> r.value().contains("\"document.list\"") && r.value().contains("\"test-admin\"");
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                    .until(() -> audit.drain(Duration.ofMillis(200)).stream().filter(listed).count() >= names.size());
            for (var r : audit.drain(Duration.ZERO).stream().filter(listed).toList()) {
                JsonNode record = EventJson.MAPPER.readTree(r.value());
                assertEquals("not_found", record.at("/data/outcome").asText());
                assertTrue(record.at("/data/collection").isMissingNode() || record.at("/data/collection").isNull(),
                        record.toString());
            }
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
