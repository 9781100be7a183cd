package fr.osfria.router.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import fr.osfria.router.RouterClient;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A user key tries to read other keys' usage through {@code GET /v1/usage}: by name (one that exists, one that does
 * not: the answers must not tell them apart), every key at once, hostile names, and a huge range.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(SimulatedBackends.class)
class UsageOfOtherKeysAttackTest {

    private static HttpResponse<String> usage(String key, String query) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(RouterClient.uri("/v1/usage" + query))
                .header("authorization", "Bearer " + key).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Until the router has read the tallies after its start, every caller gets 503 usage_unavailable. */
    @BeforeEach
    void usageRead() {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> usage(TestKeys.ADMIN, "").statusCode() == 200);
    }

    @Test
    void aUserKeyCannotReadAnotherKeysUsageNorLearnWhetherItExists() throws Exception {
        HttpResponse<String> existing = usage(TestKeys.READER, "?key=test-admin");
        HttpResponse<String> missing = usage(TestKeys.READER, "?key=test-nobody");
        RouterClient.assertError(existing, 404, "key_not_found");
        assertEquals(existing.body(), missing.body(), "the same answer whether the key exists or not");
        assertFalse(existing.body().contains("test-admin"), existing.body());
        RouterClient.assertError(usage(TestKeys.FINANCE, "?key=test-hr"), 404, "key_not_found");
        RouterClient.assertError(usage(TestKeys.READER, "?key=*"), 403, "permission_denied");
    }

    @Test
    void hostileKeyNamesAndHugeRangesAreRefusedCheaply() throws Exception {
        for (String hostile : List.of("../test-admin", "test-admin\u0000", "TEST-ADMIN", "test-admin ", "%", "x".repeat(2000),
                "<script>alert(1)</script>")) {
            HttpResponse<String> r = usage(TestKeys.READER, "?key=" + URLEncoder.encode(hostile, StandardCharsets.UTF_8));
            RouterClient.assertError(r, 404, "key_not_found");
            assertFalse(r.body().contains("script") || r.body().contains("xxxx"), "the name is not echoed: " + r.body());
        }
        // an admin's hostile name is an unknown key, nothing more
        RouterClient.assertError(usage(TestKeys.ADMIN, "?key=" + URLEncoder.encode("x".repeat(2000), StandardCharsets.UTF_8)),
                404, "key_not_found");
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        long started = System.nanoTime();
        RouterClient.assertError(usage(TestKeys.ADMIN, "?key=*&from=0001-01-01&to=" + today), 400, "invalid_range");
        RouterClient.assertError(usage(TestKeys.ADMIN, "?key=*&from=" + today + "&to=%2B999999999-12-31"), 400, "invalid_range");
        RouterClient.assertError(usage(TestKeys.ADMIN, "?from=-999999999-01-01&to=%2B999999999-12-31"), 400, "invalid_range");
        assertFalse(Duration.ofNanos(System.nanoTime() - started).toSeconds() > 5, "refused without walking the range");
    }
}
