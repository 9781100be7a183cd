package fr.osfria.embed.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;
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
import io.quarkus.test.common.http.TestHTTPResource;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
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

    @TestHTTPResource("/")
    URL base;

    /**
     * A key holder's search of 1.1 MB (a search is a few KiB: a query of at most 4,000 characters, bounded filters) was
     * read whole into memory before its checks: with the default 10 MiB limit, one key with many connections made the
     * service hold 10 MiB for each. Bodies are now capped at 1 MiB (413). And a caller without a key is refused from the
     * headers, before its body is read (Quarkus checks the key first on every endpoint that needs one; kept here so
     * that it stays so).
     */
    @Test
    void aBodyIsReadOnlyFromAKnownCallerAndOnlyUpToWhatASearchNeeds() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", base.getPort())) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 900000\r\n\r\n{\"collection\":\"" + KB + "\",\"query\":\"" + "x".repeat(1024))
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] head = new byte[12];
            int read = 0;
            try {
                for (int n; read < head.length && (n = socket.getInputStream().read(head, read, head.length - read)) > 0; ) {
                    read += n;
                }
            } catch (SocketTimeoutException e) {
                fail("no answer within 5 s while the rest of the body was not sent");
            }
            assertEquals("HTTP/1.1 401", new String(head, 0, read, StandardCharsets.US_ASCII));
        }
        given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).contentType(ContentType.JSON)
                .body("{\"collection\":\"" + KB + "\",\"query\":\"" + "x".repeat(1_100_000) + "\"}")
                .post("/v1/search").then().statusCode(413);
    }

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
