package fr.osfria.ingest.audit;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class AuditResourceTest {

    @Test
    void adminsReadTheTrailOfAllowedAndRefusedRequests() {
        Instant start = Instant.now().minusSeconds(1);
        String id = upload(TestKeys.HR, "charte.txt", ("Charte " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8), KB,
                "{\"department\":\"hr\"}").statusCode(202).extract().path("document_id");
        get(TestKeys.FINANCE, id).statusCode(404);
        upload(TestKeys.READER, "x.txt", "x".getBytes(StandardCharsets.UTF_8), KB, null).statusCode(403);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given()
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .queryParam("since", start.toString()).queryParam("limit", 1000)
                .get("/v1/audit").then().statusCode(200)
                .body("data.findAll { it.target == '" + id + "' }.collect { it.key + ':' + it.action + ':' + it.outcome }",
                        hasItem("test-hr:document.upload:ok"))
                .body("data.findAll { it.target == '" + id + "' }.collect { it.key + ':' + it.action + ':' + it.outcome }",
                        hasItem("test-finance:document.read:not_found"))
                .body("data.collect { it.key + ':' + it.action + ':' + it.outcome }", hasItem("test-reader:document.upload:denied")));

        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).queryParam("key", "test-reader")
                .get("/v1/audit").then().statusCode(200).body("data.key", everyItem(equalTo("test-reader")));
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).queryParam("since", "yesterday")
                .get("/v1/audit").then().statusCode(400);
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).get("/v1/audit").then().statusCode(403);
    }
}
