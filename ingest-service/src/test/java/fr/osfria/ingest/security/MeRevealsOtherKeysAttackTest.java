package fr.osfria.ingest.security;

import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyFile;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The attack: a key holder asks {@code GET /v1/me} to learn more than its own key: another key (by a parameter or a
 * header), any key's hash, hint or secret, or the names of collections where it cannot see a single document (a
 * {@code *} grant limited by its department). The answer must be its own key only, with nothing secret in it, and
 * the collections {@code Rights} lets it see. And the probe leaves its trace in the audit, as every read does.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class MeRevealsOtherKeysAttackTest {

    @Test
    void aUserKeySeesOnlyItselfAndNoKeyMaterial() throws Exception {
        Instant start = Instant.now().minusSeconds(1);
        String answer = me(TestKeys.HR, "?key=test-admin&name=test-finance").statusCode(200)
                .body("object", equalTo("key"))
                .body("name", equalTo("test-hr"))
                .body("admin", equalTo(false))
                .body("departments", equalTo(List.of("hr")))
                .body("collections.read", equalTo(List.of("knowledge-base")))
                .body("collections.read_any", equalTo(false))
                .extract().asString();
        for (KeyEntry other : KeyFile.read(TestKeys.FILE)) {
            if (!other.name().equals("test-hr")) {
                assertFalse(answer.contains(other.name()), "another key is named: " + other.name() + " in " + answer);
            }
            assertFalse(answer.contains(other.hash().substring("sha256:".length())), "a key's hash in " + answer);
            if (other.hint() != null) {
                assertFalse(answer.contains(other.hint().replace("…", "")), "a key's hint in " + answer);
            }
        }
        for (String secret : List.of(TestKeys.HR, TestKeys.ADMIN, TestKeys.FINANCE)) {
            assertFalse(answer.contains(secret) || answer.contains(secret.substring(0, 14)), "key material in " + answer);
        }
        assertFalse(answer.contains("sha256") || answer.contains("sk-osfria") || answer.contains("hint"), answer);
        // another key's name in a header changes nothing: the bearer key is the only one asked about
        given().header("Authorization", TestKeys.bearer(TestKeys.HR)).header("X-Osfria-Key", "test-admin")
                .get("/v1/me").then().statusCode(200).body("name", equalTo("test-hr"));
        given().get("/v1/me").then().statusCode(401).body("error.type", equalTo("authentication_error"));
        me("sk-osfria-not-a-key", "").statusCode(401);
        me(TestKeys.REVOKED, "").statusCode(401);
        // audited like the other reads: who asked, when (an administrator sees the key probing itself)
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given()
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .queryParam("key", "test-hr").queryParam("action", "key.read").queryParam("since", start.toString())
                .get("/v1/audit").then().statusCode(200)
                .body("data.collect { it.outcome + ':' + it.detail }", hasItem("ok:readable collections: 1")));
    }

    @Test
    void aWildcardReaderIsNotToldCollectionsWhereItSeesNothing() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String financeOnly = "finance-only-" + tag;
        String shared = "shared-" + tag;
        String salesKey = KeysCli.create(TestKeys.FILE, new KeyEntry("sales-" + tag, null, null, Set.of("user"),
                List.of("*"), List.of(shared), List.of("sales"), false, 1000L, null, null, null, null, null));
        await().atMost(Duration.ofSeconds(20)).until(() -> me(salesKey, "").extract().statusCode() == 200);
        upload(TestKeys.ADMIN, "budget.txt", bytes("budget " + tag), financeOnly, "{\"department\":\"finance\"}").statusCode(202);
        upload(TestKeys.ADMIN, "plan.txt", bytes("plan " + tag), shared, "{\"department\":\"sales\"}").statusCode(202);
        upload(TestKeys.ADMIN, "secret.txt", bytes("secret " + tag), "cleared-only-" + tag,
                "{\"confidential\":true}").statusCode(202);

        JsonPath sales = me(salesKey, "").statusCode(200).extract().jsonPath();
        List<String> read = sales.getList("collections.read");
        assertTrue(read.contains(shared), "the collection where it sees a document: " + read);
        assertFalse(read.contains(financeOnly), "a collection holding only another department's documents: " + read);
        assertFalse(read.contains("cleared-only-" + tag), "a collection holding only confidential documents: " + read);
        assertFalse(read.contains("*"), read.toString());
        assertTrue(sales.getBoolean("collections.read_any"));
        assertEquals(List.of(shared), sales.getList("collections.write"));
        assertFalse(sales.getBoolean("collections.write_any"));
        assertEquals(1000, sales.getInt("quotas.daily_tokens"));

        JsonPath admin = me(TestKeys.ADMIN, "").statusCode(200).extract().jsonPath();
        assertTrue(admin.getBoolean("admin"));
        assertTrue(admin.getList("collections.read").containsAll(List.of(financeOnly, shared, "cleared-only-" + tag)));
    }

    private static io.restassured.response.ValidatableResponse me(String key, String query) {
        return given().header("Authorization", TestKeys.bearer(key)).get("/v1/me" + query).then();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
