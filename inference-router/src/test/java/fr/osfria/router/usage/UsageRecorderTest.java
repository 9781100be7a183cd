package fr.osfria.router.usage;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

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

/** Against the real broker: a router that has just started must not lose the usage of its first requests. */
class UsageRecorderTest {

    @Test
    void theFirstRecordsAfterAStartReachTheTopicAndShutdownFlushesTheRest() throws Exception {
        String key = "fresh-" + UUID.randomUUID();
        try (TopicProbe usage = TopicProbe.open(Topics.USAGE)) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            UsageRecorder recorder = new UsageRecorder(InJvmKafka.bootstrapServers(), meters);
            recorder.start(null);
            // before the producer has ever seen the topic's metadata
            IntStream.range(0, 50).forEach(i -> recorder.record(record(key, i)));
            recorder.stop(null); // right away: what is queued or buffered still goes out

            await().atMost(Duration.ofSeconds(20)).until(() -> ofKey(usage.drain(Duration.ofMillis(200)), key) == 50);
            assertEquals(0.0, meters.get("osfria.router.usage.records.lost").counter().count());
        }
    }

    private static UsageRecord record(String key, int i) {
        return new UsageRecord("req-" + i, key, "m", "b", 1, i, i + 1, false, "ok", Instant.now());
    }

    private static long ofKey(List<ConsumerRecord<String, String>> records, String key) {
        return records.stream().filter(r -> key.equals(r.key())).count();
    }
}
