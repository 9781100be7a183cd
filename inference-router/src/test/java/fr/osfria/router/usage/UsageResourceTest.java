package fr.osfria.router.usage;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.router.RouterClient;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code GET /v1/usage}: a key's tokens and requests per day with its quotas, from the tallies quotas count. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(SimulatedBackends.class)
class UsageResourceTest {

    static final LocalDate TODAY = LocalDate.now(ZoneOffset.UTC);

    @BeforeEach
    void backendsUp() {
        SimulatedBackends.resetAll();
    }

    static HttpResponse<String> get(String key, String query) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(RouterClient.uri("/v1/usage" + query)).timeout(Duration.ofSeconds(10));
        if (key != null) {
            b.header("authorization", "Bearer " + key);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        return EventJson.MAPPER.readTree(r.body());
    }

    /** A metered user key that made two chat requests, once both are counted. */
    static String keyWithTwoRequests(String name) throws Exception {
        String key = TestKeys.metered(name, 100_000L, 2_000_000L, 600L, null);
        await().atMost(Duration.ofSeconds(10)).until(() -> get(key, "").statusCode() != 401);
        for (int i = 0; i < 2; i++) {
            // the simulator counts 3 prompt tokens and max_tokens completion tokens
            assertEquals(200, RouterClient.post("/v1/chat/completions", key, RouterClient.chat(LLAMA, 5, false)).statusCode());
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> get(key, "").statusCode() == 200
                && json(get(key, "")).at("/data/0/total_requests").asLong() == 2);
        return key;
    }

    @Test
    void aKeySeesItsOwnTokensAndRequestsPerDayWithItsQuotas() throws Exception {
        String name = "usage-" + UUID.randomUUID().toString().substring(0, 8);
        String key = keyWithTwoRequests(name);
        JsonNode usage = json(get(key, ""));
        assertEquals("usage", usage.get("object").asText());
        assertEquals(TODAY.toString(), usage.get("to").asText(), "by default: up to today");
        assertEquals(TODAY.minusDays(30).toString(), usage.get("from").asText(), "by default: every day kept");
        assertEquals(1, usage.get("data").size(), "a user key sees its own key only");
        JsonNode mine = usage.get("data").get(0);
        assertEquals(name, mine.get("key").asText());
        assertEquals(100_000, mine.at("/quotas/daily_tokens").asLong());
        assertEquals(2_000_000, mine.at("/quotas/monthly_tokens").asLong());
        assertEquals(600, mine.at("/quotas/requests_per_minute").asLong());
        assertTrue(mine.at("/quotas/tokens_per_minute").isNull());
        assertEquals(16, mine.get("total_tokens").asLong(), mine.toString());
        assertEquals(16, mine.get("used_today").asLong(), mine.toString());
        assertEquals(31, mine.get("days").size(), "one entry per day, unused ones at zero");
        JsonNode today = mine.get("days").get(30);
        assertEquals(TODAY.toString(), today.get("date").asText());
        assertEquals(16, today.get("tokens").asLong());
        assertEquals(2, today.get("requests").asLong());
        assertEquals(0, mine.get("days").get(0).get("tokens").asLong());

        // a range of one day, and asking for one's own name explicitly
        JsonNode one = json(get(key, "?from=" + TODAY + "&to=" + TODAY + "&key=" + name));
        assertEquals(1, one.at("/data/0/days").size());
        assertEquals(2, one.at("/data/0/days/0/requests").asLong());
    }

    @Test
    void adminsReadAnyKeyOrEveryKey() throws Exception {
        String name = "usage-admin-" + UUID.randomUUID().toString().substring(0, 8);
        keyWithTwoRequests(name);
        JsonNode one = json(get(TestKeys.ADMIN, "?key=" + name));
        assertEquals(name, one.at("/data/0/key").asText());
        assertEquals(2, one.at("/data/0/total_requests").asLong());
        JsonNode all = json(get(TestKeys.ADMIN, "?key=*&from=" + TODAY));
        boolean found = false;
        for (JsonNode k : all.get("data")) {
            found |= k.get("key").asText().equals(name) && k.get("total_requests").asLong() == 2;
        }
        assertTrue(found, all.toString());
        assertTrue(all.get("data").size() >= 5, "every key of the key file: " + all);
        RouterClient.assertError(get(TestKeys.ADMIN, "?key=no-such-key"), 404, "key_not_found");
    }

    @Test
    void aRangeOutsideTheDaysKeptOrBackwardsOrMalformedIs400() throws Exception {
        String key = TestKeys.READER;
        RouterClient.assertError(get(key, "?from=" + TODAY + "&to=" + TODAY.minusDays(1)), 400, "invalid_range");
        RouterClient.assertError(get(key, "?from=" + TODAY.minusDays(31)), 400, "invalid_range");
        RouterClient.assertError(get(key, "?to=" + TODAY.plusDays(1)), 400, "invalid_range");
        RouterClient.assertError(get(key, "?from=yesterday"), 400, "invalid_date");
        RouterClient.assertError(get(key, "?from=2026-02-30"), 400, "invalid_date");
        RouterClient.assertError(get(null, ""), 401, "missing_api_key");
        RouterClient.assertError(get(TestKeys.REVOKED, ""), 401, "invalid_api_key");
    }
}
