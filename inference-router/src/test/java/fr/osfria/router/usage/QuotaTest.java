package fr.osfria.router.usage;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.router.RouterClient;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyFile;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(SimulatedBackends.class)
class QuotaTest {

    @BeforeEach
    void backendsUp() {
        SimulatedBackends.resetAll();
    }

    /** A new key with these limits, once the router has loaded it. */
    private static String key(String prefix, Long daily, Long monthly, Long rpm, Long tpm) {
        String key = TestKeys.metered(prefix + "-" + UUID.randomUUID().toString().substring(0, 8), daily, monthly, rpm, tpm);
        // a probe that spends none of the key's limits: completions count against the rate limit before the body is read
        await().atMost(Duration.ofSeconds(10)).until(() -> java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(RouterClient.uri("/v1/models")).header("authorization", "Bearer " + key)
                        .build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        return key;
    }

    private static HttpResponse<String> chat(String key, int maxTokens) throws Exception {
        // the simulator counts three prompt tokens for RouterClient.chat's messages
        return RouterClient.post("/v1/chat/completions", key, RouterClient.chat(LLAMA, maxTokens, false));
    }

    @Test
    void requestRateLimitAnswers429WithRetryAfter() throws Exception {
        String key = key("rpm", null, null, 3L, null);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, chat(key, 1).statusCode());
        }
        HttpResponse<String> limited = chat(key, 1);
        RouterClient.assertError(limited, 429, "rate_limit_exceeded");
        long retryAfter = Long.parseLong(limited.headers().firstValue("retry-after").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 20, "Retry-After " + retryAfter);
        assertEquals(200, chat(TestKeys.READER, 1).statusCode(), "other keys are not limited");
    }

    @Test
    void tokenRateLimitChargesWhatRequestsReallyUsed() throws Exception {
        String key = key("tpm", null, null, null, 30L);
        assertEquals(200, chat(key, 20).statusCode()); // 23 tokens of 30
        assertEquals(200, chat(key, 20).statusCode()); // 7 left: let in, and takes the bucket below zero
        RouterClient.assertError(chat(key, 1), 429, "rate_limit_exceeded");
    }

    @Test
    void usageIsCountedExactlyForWholeAndStreamedAnswersAndSentToKafka() throws Exception {
        String key = key("usage", null, null, null, null);
        String name = keyName(key);
        try (TopicProbe usage = TopicProbe.open(Topics.USAGE)) {
            assertEquals(200, chat(key, 7).statusCode());
            RouterClient.Stream s = RouterClient.stream("/v1/chat/completions", key, RouterClient.chat(LLAMA, 5, true));
            assertTrue(s.endsWithDone());
            RouterClient.Stream t = RouterClient.stream("/v1/completions", key,
                    "{\"model\":\"" + LLAMA + "\",\"prompt\":\"a b c d e\",\"max_tokens\":9,\"stream\":true}");
            assertTrue(t.endsWithDone());

            // drain() returns everything seen since the probe opened
            await().atMost(Duration.ofSeconds(10)).until(() -> ofKey(usage.drain(Duration.ofMillis(200)), name).size() >= 3);
            List<JsonNode> records = new ArrayList<>(ofKey(usage.drain(Duration.ofMillis(500)), name));
            assertEquals(3, records.size());
            records.sort((a, b) -> Long.compare(a.get("completionTokens").asLong(), b.get("completionTokens").asLong()));
            assertUsage(records.get(0), 3, 5, true);
            assertUsage(records.get(1), 3, 7, false);
            assertUsage(records.get(2), 5, 9, true);
            assertEquals(LLAMA, records.get(0).get("model").asText());
        }
    }

    @Test
    void quotaThresholdsArePublishedExactlyOnceWithTwoRouterInstancesAndTheQuotaIsEnforced() throws Exception {
        // six keys, so both instances own some of the usage topic's partitions
        Map<String, String> keys = new TreeMap<>();
        for (int i = 0; i < 6; i++) {
            String key = key("quota" + i, 100L, 1000L, null, null);
            keys.put(keyName(key), key);
        }
        ThresholdNotifier other = new ThresholdNotifier(InJvmKafka.bootstrapServers(), UsageThresholds.GROUP,
                QuotaTest::fromFile, List.of(0.5, 0.8, 1.0), ZoneId.of("UTC"));
        Thread thread = new Thread(other, "second-router-thresholds");
        try (TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            thread.start();
            Thread.sleep(3000); // let the group rebalance over the two instances
            for (String key : keys.values()) {
                for (int i = 0; i < 3; i++) {
                    assertEquals(200, chat(key, 17).statusCode()); // 20 tokens each: 60 of 100 crosses one half
                }
            }
            Thread.sleep(1500);
            other.close(); // the second instance leaves: the first takes its partitions over and rebuilds totals
            thread.join(10_000);
            for (String key : keys.values()) {
                for (int i = 0; i < 2; i++) {
                    assertEquals(200, chat(key, 17).statusCode()); // 80 crosses 0.8, 100 crosses 1.0
                }
            }
            // drain() returns everything seen since the probe opened: wait for all 18, then a little longer
            await().atMost(Duration.ofSeconds(30)).until(() -> thresholds(events.drain(Duration.ofMillis(300)), keys).size() >= 18);
            Map<String, List<String>> seen = new HashMap<>();
            for (ConsumerRecord<String, String> r : thresholds(events.drain(Duration.ofSeconds(2)), keys)) {
                JsonNode d = data(r);
                seen.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(d.get("window").asText() + ":" + d.get("fraction").asDouble());
            }
            for (String name : keys.keySet()) {
                List<String> got = seen.get(name);
                got.sort(String::compareTo);
                assertEquals(List.of("daily:0.5", "daily:0.8", "daily:1.0"), got, name);
            }
        } finally {
            other.close();
        }
        // the quota is used up: every replica's ledger refuses the key until the day ends
        String spent = keys.values().iterator().next();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> r = chat(spent, 1);
            RouterClient.assertError(r, 429, "quota_exceeded");
            long retryAfter = Long.parseLong(r.headers().firstValue("retry-after").orElseThrow());
            assertTrue(retryAfter >= 1 && retryAfter <= 86_400);
        });
    }

    private static List<JsonNode> ofKey(List<ConsumerRecord<String, String>> records, String name) {
        return records.stream().filter(r -> name.equals(r.key())).map(QuotaTest::data).toList();
    }

    private static List<ConsumerRecord<String, String>> thresholds(List<ConsumerRecord<String, String>> records,
                                                                   Map<String, String> keys) {
        return records.stream().filter(r -> keys.containsKey(r.key()) && r.value().contains(EventTypes.USAGE_THRESHOLD)).toList();
    }

    private static KeyEntry fromFile(String name) {
        return KeyFile.read(TestKeys.FILE).stream().filter(k -> k.name().equals(name)).findFirst().orElse(null);
    }

    private static String keyName(String key) {
        return KeyFile.read(TestKeys.FILE).stream().filter(k -> fr.osfria.security.key.ApiKeys.matches(key, k.hash()))
                .findFirst().orElseThrow().name();
    }

    private static JsonNode data(ConsumerRecord<String, String> r) {
        try {
            return EventJson.MAPPER.readTree(r.value()).get("data");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void assertUsage(JsonNode usage, long prompt, long completion, boolean stream) {
        assertEquals(prompt, usage.get("promptTokens").asLong(), usage.toString());
        assertEquals(completion, usage.get("completionTokens").asLong(), usage.toString());
        assertEquals(prompt + completion, usage.get("totalTokens").asLong());
        assertEquals(stream, usage.get("stream").asBoolean());
        assertEquals("ok", usage.get("outcome").asText());
    }
}
