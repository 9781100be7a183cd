package fr.osfria.router.usage;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.events.usage.UsageRecord;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.TopicProbe;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Against the real broker: what quotas and billing read of a router's usage, from its first requests on. */
class UsageRecorderTest {

    @Test
    void theFirstRecordsAfterAStartReachTheTopicsAndShutdownFlushesTheRest() throws Exception {
        String key = "fresh-" + UUID.randomUUID();
        try (TopicProbe usage = TopicProbe.open(Topics.USAGE); TopicProbe tallies = TopicProbe.open(Topics.USAGE_TALLIES)) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            UsageRecorder recorder = new UsageRecorder(InJvmKafka.bootstrapServers(), meters, ledger());
            recorder.start(null);
            // before the producer has ever seen the topics' metadata
            IntStream.range(0, 50).forEach(i -> recorder.record(record(key, i)));
            recorder.stop(null); // right away: what is queued or buffered still goes out

            await().atMost(Duration.ofSeconds(20)).until(() -> ofKey(usage.drain(Duration.ofMillis(200)), key).size() == 50);
            // 1 + 2 + ... + 50 tokens; two tallies if the records straddle a minute
            await().atMost(Duration.ofSeconds(20)).until(() -> sum(ofKey(tallies.drain(Duration.ofMillis(200)), key), "requests") == 50);
            assertEquals(1275, sum(ofKey(tallies.drain(Duration.ofMillis(200)), key), "totalTokens"));
            assertEquals(0.0, meters.get("osfria.router.usage.records.lost").counter().count());
            assertEquals(0.0, meters.get("osfria.router.usage.tallies.lost").counter().count());
        }
    }

    @Test
    void aRunningRecorderTalliesEachKeyAboutEverySecond() throws Exception {
        String key = "running-" + UUID.randomUUID();
        try (TopicProbe tallies = TopicProbe.open(Topics.USAGE_TALLIES)) {
            UsageRecorder recorder = new UsageRecorder(InJvmKafka.bootstrapServers(), new SimpleMeterRegistry(), ledger());
            recorder.start(null);
            try {
                IntStream.range(0, 3).forEach(i -> recorder.record(record(key, i)));
                await().atMost(Duration.ofSeconds(10)).until(() -> sum(ofKey(tallies.drain(Duration.ofMillis(200)), key), "requests") == 3);
                recorder.record(record(key, 9));
                await().atMost(Duration.ofSeconds(10)).until(() -> sum(ofKey(tallies.drain(Duration.ofMillis(200)), key), "requests") == 4);
                assertEquals(1 + 2 + 3 + 10, sum(ofKey(tallies.drain(Duration.ofMillis(200)), key), "totalTokens"));
            } finally {
                recorder.stop(null);
            }
        }
    }

    /** A quota ledger that is not started: the recorder tells it only of usage Kafka did not take. */
    private static UsageLedger ledger() {
        return new UsageLedger(InJvmKafka.bootstrapServers(), java.time.ZoneId.of("UTC"), 1024);
    }

    private static UsageRecord record(String key, int i) {
        return new UsageRecord("req-" + i, key, "m", "b", 1, i, i + 1, false, "ok", Instant.now());
    }

    private static List<JsonNode> ofKey(List<ConsumerRecord<String, String>> records, String key) {
        return records.stream().filter(r -> key.equals(r.key())).map(r -> data(r.value())).toList();
    }

    private static long sum(List<JsonNode> data, String field) {
        return data.stream().mapToLong(d -> d.get(field).asLong()).sum();
    }

    private static JsonNode data(String event) {
        try {
            return EventJson.MAPPER.readTree(event).get("data");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
