package fr.osfria.router.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.router.batch.BatchConsumer;
import fr.osfria.router.batch.BatchTestSupport;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The router dies in the middle of a batch, at the worst moment: answers of a commit already written to the results
 * topic, their transaction not committed, and requests in flight on the backends. A new worker (what a restarted
 * router runs) resumes from the committed offsets: every request is answered, none twice, for a read_committed
 * reader. A read_uncommitted reader does see the dead router's answers a second time: the crash did leave written,
 * uncommitted answers behind, so the test exercises what it claims to.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(SimulatedBackends.class)
class BatchSurvivesRouterCrashTest {

    private static final int REQUESTS = 300;

    @Inject
    BatchConsumer batch;

    @AfterEach
    void backendsUp() throws InterruptedException {
        SimulatedBackends.resetAll();
        batch.stop();
        batch.start(); // whatever happened, the next test has a worker
    }

    @Test
    void aCrashMidBatchNeitherLosesNorRepeatsAnAnswer() throws Exception {
        SimulatedBackends.first.firstTokenDelay(100); // requests in flight when the router dies
        SimulatedBackends.second.firstTokenDelay(100);
        String app = BatchTestSupport.application("crash", null);
        Map<String, String> lines = new LinkedHashMap<>();
        for (int i = 0; i < REQUESTS; i++) {
            lines.put("c-" + i, BatchTestSupport.line("c-" + i, 2));
        }
        try (TopicProbe results = TopicProbe.open(Topics.appResults(app))) {
            BatchTestSupport.send(app, lines);
            results.await(r -> distinct(results) >= 40, Duration.ofSeconds(60));
            batch.crashAtNextCommit();
            int before = distinct(results);
            assertTrue(before < REQUESTS, "the crash came after the whole batch: " + before);
            batch.start();
            results.await(r -> distinct(results) >= REQUESTS, Duration.ofSeconds(90));
            Map<String, ?> answers = BatchTestSupport.answers(results.drain(Duration.ofSeconds(2))); // fails on a repeat
            assertEquals(lines.keySet(), answers.keySet());
        }
        assertTrue(uncommittedCount(Topics.appResults(app)) > REQUESTS,
                "the crash left no written-but-uncommitted answer: the test did not test the hard case");
    }

    private static int distinct(TopicProbe probe) {
        Set<String> keys = new HashSet<>();
        probe.drain(Duration.ZERO).forEach(r -> keys.add(r.key()));
        return keys.size();
    }

    /** Every record of the topic as a read_uncommitted reader sees it, aborted transactions included. */
    private static int uncommittedCount(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            long end = c.endOffsets(parts).values().stream().mapToLong(Long::longValue).sum();
            int n = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (parts.stream().mapToLong(c::position).sum() < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    n++;
                }
            }
            return n;
        }
    }
}
