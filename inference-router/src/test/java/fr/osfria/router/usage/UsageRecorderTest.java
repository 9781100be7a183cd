package fr.osfria.router.usage;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.events.usage.UsageRecord;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.TopicProbe;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import java.util.stream.Stream;
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

    /**
     * An idle router's recorder sleeps until a record comes: it used to wake every 20 ms with nothing to send (50
     * wake-ups a second, on every router, all day). Counted as the thread's voluntary context switches (Linux).
     */
    @Test
    void anIdleRecorderSleepsUntilARecordComes() throws Exception {
        List<Path> others = recorderThreads(); // a router started by another test of this JVM has its own
        UsageRecorder recorder = new UsageRecorder(InJvmKafka.bootstrapServers(), new SimpleMeterRegistry(), ledger());
        recorder.start(null);
        try {
            List<Path> mine = recorderThreads().stream().filter(t -> !others.contains(t)).toList();
            assertEquals(1, mine.size(), "one recorder thread");
            Thread.sleep(500); // past its start
            long before = wakeUps(mine.get(0));
            Thread.sleep(2000);
            long wakeUps = wakeUps(mine.get(0)) - before;
            assertTrue(wakeUps <= 15, wakeUps + " wake-ups in 2 s with nothing to send"); // ~8 at one look every 250 ms
        } finally {
            recorder.stop(null);
        }
    }

    /** The recorder threads of this JVM in /proc (their name is cut to 15 characters there). */
    private static List<Path> recorderThreads() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).strip().equals("osfria-usage-re");
                } catch (IOException e) {
                    return false;
                }
            }).toList();
        }
    }

    /** A thread's voluntary context switches: how often it went to sleep. */
    private static long wakeUps(Path thread) throws IOException {
        return Files.readAllLines(thread.resolve("status")).stream().filter(l -> l.startsWith("voluntary_ctxt_switches:"))
                .mapToLong(l -> Long.parseLong(l.split("\\s+")[1])).sum();
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
