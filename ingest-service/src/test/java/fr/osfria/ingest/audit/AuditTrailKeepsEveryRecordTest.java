package fr.osfria.ingest.audit;

import static fr.osfria.ingest.IngestTestSupport.get;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.startsWith;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.audit.AuditRecord;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Every audit record reaches the trail, whatever a caller put in its fields: a probe must not be kept out of
 * {@code GET /v1/audit} by a path id longer than the trail's target column, or by a NUL or a lone surrogate in a
 * text another service quotes into its record (such a record used to fail its insert and go to the dead-letter topic).
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class AuditTrailKeepsEveryRecordTest {

    @Test
    void probesWithOverlongIdsAreInTheTrailAndToldApart() {
        // two probes that differ only past the target column's 200 characters
        String common = "doc_" + UUID.randomUUID().toString().replace("-", "") + "x".repeat(250);
        String first = common + "1";
        String second = common + "2";
        get(TestKeys.FINANCE, first).statusCode(404);
        get(TestKeys.FINANCE, second).statusCode(404);

        String kept = common.substring(0, 150);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given()
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .queryParam("key", "test-finance").queryParam("action", "document.read").queryParam("limit", 1000)
                .get("/v1/audit").then().statusCode(200)
                .body("data.findAll { it.target?.startsWith('" + kept + "') && it.target.length() == 200 "
                        + "&& it.target.contains('…[sha256:') && it.outcome == 'not_found' }.target.unique()", hasSize(2)));
    }

    @Test
    void aRecordWithTextTheTableCannotHoldIsStoredOnceAndPrintable() {
        String marker = UUID.randomUUID().toString();
        String hostileId = "audit-" + marker + "-" + "i".repeat(300);
        AuditRecord record = new AuditRecord("embed-service", "test-finance", "search", null,
                "c".repeat(300) + "\u0000", "invalid", Instant.now(), "collection 'kb\u0000" + marker + "\ud800' is not valid");
        String json = EventJson.encode(CloudEvent.of("/osfria/embed-service", EventTypes.AUDIT_RECORDED, "test-finance", record)
                .withId(hostileId))
                .replace("\ud800", "\\ud800"); // as a JSON escape: the producer's UTF-8 would make a lone surrogate '?'
        TopicProbe.send("osfria.audit.v1", "test-finance", json);
        TopicProbe.send("osfria.audit.v1", "test-finance", json); // read twice: stored once
        // then a plain record with the same key (same partition, read after both): once it is in, both were read
        String after = "after-" + marker;
        TopicProbe.send("osfria.audit.v1", "test-finance", EventJson.encode(CloudEvent.of("/osfria/embed-service",
                EventTypes.AUDIT_RECORDED, "test-finance", new AuditRecord("embed-service", "test-finance", "search", null,
                        null, "ok", Instant.now(), after))));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given()
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .queryParam("key", "test-finance").queryParam("action", "search").queryParam("limit", 1000)
                .get("/v1/audit").then().statusCode(200)
                .body("data.detail", hasItem(after)));
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .queryParam("key", "test-finance").queryParam("action", "search").queryParam("limit", 1000)
                .get("/v1/audit").then().statusCode(200)
                .body("data.findAll { it.detail != null && it.detail.contains('" + marker + "') && it.detail != '" + after + "' }", hasSize(1))
                .body("data.find { it.detail != null && it.detail.startsWith('collection') && it.detail.contains('" + marker + "') }.detail",
                        equalTo("collection 'kb\\u0000" + marker + "\\ud800' is not valid"))
                .body("data.find { it.detail != null && it.detail.startsWith('collection') && it.detail.contains('" + marker + "') }.collection",
                        startsWith("c".repeat(106) + "…[sha256:"));
    }
}
