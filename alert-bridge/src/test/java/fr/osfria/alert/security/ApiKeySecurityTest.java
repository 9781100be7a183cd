package fr.osfria.alert.security;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.key.ApiKeys;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The platform's API-key security, exercised through a real service. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
class ApiKeySecurityTest {

    private static final String EMPTY_BATCH = "{\"version\":\"4\",\"alerts\":[]}";

    private static ValidatableResponse call(String authorization) {
        var request = given().contentType(ContentType.JSON).body(EMPTY_BATCH);
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return request.post("/v1/alerts/alertmanager").then();
    }

    @Test
    void aValidKeyIsAccepted() {
        call(TestKeys.bearer(TestKeys.ADMIN)).statusCode(200).body("received", equalTo(0));
        call("bearer " + TestKeys.ADMIN).statusCode(200); // the scheme is case-insensitive
    }

    @Test
    void noKeyIs401WithAJsonErrorAndAChallenge() {
        call(null).statusCode(401)
                .contentType(ContentType.JSON)
                .header("WWW-Authenticate", containsString("Bearer"))
                .body("error.type", equalTo("authentication_error"))
                .body("error.code", equalTo("missing_api_key"));
    }

    @Test
    void malformedAuthorizationHeadersAre401() {
        for (String header : List.of("Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "sk-osfria-abc", "Bearer sk-osfria-",
                "Bearer sk-osfria-" + "é".repeat(10), "Bearer sk-osfria-" + "A".repeat(500), "Bearer " + TestKeys.ADMIN + "x")) {
            call(header).statusCode(401).body("error.type", equalTo("authentication_error"));
        }
    }

    @Test
    void aWrongKeyIs401() {
        call(TestKeys.bearer(ApiKeys.generate())).statusCode(401).body("error.code", equalTo("invalid_api_key"));
    }

    @Test
    void aRevokedKeyIs401() {
        call(TestKeys.bearer(TestKeys.REVOKED)).statusCode(401).body("error.code", equalTo("invalid_api_key"));
    }

    @Test
    void aKeyWithoutTheRoleIs403() {
        call(TestKeys.bearer(TestKeys.READER)).statusCode(403).body("error.type", equalTo("permission_error"));
    }

    @Test
    void keysCreatedOrRevokedWithTheToolTakeEffectWithoutRestart() throws Exception {
        String key = KeysCli.create(TestKeys.FILE, new KeyEntry("hot-reload", null, null, Set.of("alertmanager"),
                List.of(), List.of(), List.of(), false, null, null, null, null, null, null));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> call(TestKeys.bearer(key)).statusCode(200));

        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        assertTrue(KeysCli.run(new String[] {"--file", TestKeys.FILE.toString(), "revoke", "hot-reload"}, null, quiet, quiet) == 0);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> call(TestKeys.bearer(key)).statusCode(401));
    }

    @Test
    void theKeyFileNeverHoldsAKeyInClear() throws Exception {
        String file = Files.readString(TestKeys.FILE);
        for (String key : List.of(TestKeys.ADMIN, TestKeys.FINANCE, TestKeys.HR, TestKeys.READER, TestKeys.REVOKED)) {
            assertFalse(file.contains(key.substring(ApiKeys.PREFIX.length())), "a clear key is in the key file");
            assertTrue(file.contains(ApiKeys.hash(key)), "each key is there as its hash");
        }
    }

    @Test
    void aCorruptKeyFileKeepsTheLastGoodKeysAndSaysSoInHealth() throws Exception {
        byte[] good = Files.readAllBytes(TestKeys.FILE);
        try {
            Files.writeString(TestKeys.FILE, "{\"version\":1,\"keys\":[{\"name\":");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().get("/q/health/ready").then()
                    .statusCode(200)
                    .body("checks.find { it.name == 'api-key-registry' }.data.error", containsString("not a valid key file")));
            call(TestKeys.bearer(TestKeys.ADMIN)).statusCode(200);
        } finally {
            Files.write(TestKeys.FILE, good);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().get("/q/health/ready").then()
                .body("checks.find { it.name == 'api-key-registry' }.data.error", equalTo(null)));
    }

    @Test
    void healthMetricsAndOpenApiStayOpenEvenWithABadKey() {
        given().get("/q/health").then().statusCode(200).body("status", equalTo("UP"));
        given().header("Authorization", "Bearer nonsense").get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200).body(containsString("http_server_requests"));
        given().get("/q/openapi").then().statusCode(200).body(containsString("/v1/alerts/alertmanager"));
    }

    @Test
    void unknownRoutesAreAJson404() {
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).get("/v1/nothing-here").then()
                .statusCode(404).contentType(ContentType.JSON).body("error.type", equalTo("not_found_error"));
        given().get("/v1/nothing-here").then().statusCode(404).contentType(ContentType.JSON);
        given().get("/../../etc/passwd").then().statusCode(404);
    }

    @Test
    void aHugeHeaderIsRefusedAndTheServiceCarriesOn() {
        given().header("Authorization", "Bearer sk-osfria-" + "A".repeat(64 * 1024)).contentType(ContentType.JSON)
                .body(EMPTY_BATCH).post("/v1/alerts/alertmanager").then().statusCode(431);
        call(TestKeys.bearer(TestKeys.ADMIN)).statusCode(200);
    }
}
