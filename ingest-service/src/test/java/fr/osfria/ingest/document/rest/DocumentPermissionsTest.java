package fr.osfria.ingest.document.rest;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two departments, a confidential document, a reader without clearance, a reader without write rights: who may
 * upload, read, list and delete what. What a key may not see answers exactly like what does not exist.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class DocumentPermissionsTest {

    private String finance;
    private String financeConfidential;
    private String hr;

    private static byte[] text(String what) {
        return (what + " " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    }

    /** Uploaded once, on first use (RestAssured knows the test port only once a test runs). */
    @BeforeEach
    void documents() {
        if (finance != null) {
            return;
        }
        finance = upload(TestKeys.FINANCE, "budget.txt", text("Budget"), KB, "{\"department\":\"finance\"}")
                .statusCode(202).extract().path("document_id");
        financeConfidential = upload(TestKeys.FINANCE, "salaires.txt", text("Salaires"), KB,
                "{\"department\":\"finance\",\"confidential\":true}").statusCode(202).extract().path("document_id");
        hr = upload(TestKeys.HR, "conges.txt", text("Congés"), KB, "{\"department\":\"hr\"}")
                .statusCode(202).extract().path("document_id");
    }

    @Test
    void uploadNeedsWriteRightsOnTheCollectionDepartmentAndClearance() {
        upload(TestKeys.FINANCE, "a.txt", text("a"), KB, "{\"department\":\"hr\"}").statusCode(403);
        upload(TestKeys.HR, "b.txt", text("b"), KB, "{\"department\":\"finance\"}").statusCode(403);
        upload(TestKeys.HR, "c.txt", text("c"), KB, "{\"department\":\"hr\",\"confidential\":true}").statusCode(403);
        upload(TestKeys.READER, "d.txt", text("d"), KB, "{\"department\":\"hr\"}").statusCode(403);
        upload(TestKeys.FINANCE, "e.txt", text("e"), "other-collection", "{\"department\":\"finance\"}")
                .statusCode(403).body("error.type", equalTo("permission_error"));
        upload(TestKeys.ADMIN, "f.txt", text("f"), "other-collection", "{\"confidential\":true}").statusCode(202);
    }

    @Test
    void readsShowOnlyWhatTheKeyMaySee() {
        Map<String, List<String>> visible = Map.of(
                TestKeys.FINANCE, List.of(finance, financeConfidential),
                TestKeys.HR, List.of(hr),
                TestKeys.READER, List.of(finance, hr),
                TestKeys.ADMIN, List.of(finance, financeConfidential, hr));
        for (var entry : visible.entrySet()) {
            for (String doc : List.of(finance, financeConfidential, hr)) {
                boolean sees = entry.getValue().contains(doc);
                get(entry.getKey(), doc).statusCode(sees ? 200 : 404);
            }
            List<String> listed = given().header("Authorization", TestKeys.bearer(entry.getKey()))
                    .queryParam("collection", KB).queryParam("limit", 500)
                    .get("/v1/documents").then().statusCode(200).extract().path("data.document_id");
            for (String doc : List.of(finance, financeConfidential, hr)) {
                assertEquals(entry.getValue().contains(doc), listed.contains(doc), "list of " + entry.getKey() + " / " + doc);
            }
        }
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).queryParam("collection", "other-collection")
                .get("/v1/documents").then().statusCode(404);
    }

    /** The total comes with the page's rows (one query): it counts only what the key may see, on every page. */
    @Test
    void aListsTotalCountsOnlyWhatTheKeyMaySeeOnEveryPage() {
        for (String key : List.of(TestKeys.FINANCE, TestKeys.HR, TestKeys.READER, TestKeys.ADMIN)) {
            List<String> all = list(key, 0, 500).extract().path("data.document_id");
            int visible = all.size();
            list(key, 0, 500).body("total", equalTo(visible));
            list(key, 0, 1).body("total", equalTo(visible)).body("data.size()", equalTo(1));
            list(key, visible - 1, 5).body("total", equalTo(visible)).body("data.size()", equalTo(1))
                    .body("data[0].document_id", equalTo(all.get(visible - 1)));
            list(key, visible + 5, 5).body("total", equalTo(visible)).body("data.size()", equalTo(0));
        }
        int finance = list(TestKeys.FINANCE, 0, 500).extract().path("total");
        int admin = list(TestKeys.ADMIN, 0, 500).extract().path("total");
        assertTrue(finance < admin, "the HR document is not in finance's total: " + finance + " of " + admin);
    }

    private static io.restassured.response.ValidatableResponse list(String key, int offset, int limit) {
        return given().header("Authorization", TestKeys.bearer(key)).queryParam("collection", KB)
                .queryParam("offset", offset).queryParam("limit", limit).get("/v1/documents").then().statusCode(200);
    }

    @Test
    void aForbiddenDocumentIsIndistinguishableFromAnUnknownOne() {
        String unknown = "doc_" + "0".repeat(24);
        JsonNode forbidden = body(get(TestKeys.HR, financeConfidential).statusCode(404).extract().asString());
        JsonNode missing = body(get(TestKeys.HR, unknown).statusCode(404).extract().asString());
        assertEquals(missing.at("/error/message").asText().replace(unknown, "ID"),
                forbidden.at("/error/message").asText().replace(financeConfidential, "ID"));
        assertEquals(missing.at("/error/code"), forbidden.at("/error/code"));
    }

    @Test
    void deleteNeedsToSeeAndToWrite() throws Exception {
        String doomed = upload(TestKeys.FINANCE, "temp.txt", text("Temporaire"), KB, "{\"department\":\"finance\"}")
                .statusCode(202).extract().path("document_id");
        given().header("Authorization", TestKeys.bearer(TestKeys.HR)).delete("/v1/documents/" + doomed).then().statusCode(404);
        try (TopicProbe audit = TopicProbe.open(Topics.AUDIT)) {
            given().header("Authorization", TestKeys.bearer(TestKeys.READER)).delete("/v1/documents/" + doomed).then().statusCode(403);
            JsonNode record = body(audit.await(r -> doomed.equals(r.key()) && r.value().contains("document.delete"),
                    Duration.ofSeconds(20)).value());
            assertEquals("test-reader", record.at("/data/keyName").asText());
            assertEquals("denied", record.at("/data/outcome").asText());
        }
        get(TestKeys.FINANCE, doomed).statusCode(200);
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).delete("/v1/documents/" + doomed).then().statusCode(204);
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).delete("/v1/documents/" + doomed).then().statusCode(404);
    }

    private static JsonNode body(String json) {
        try {
            return EventJson.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new AssertionError(json, e);
        }
    }
}
