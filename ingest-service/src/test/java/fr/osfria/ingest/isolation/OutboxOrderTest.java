package fr.osfria.ingest.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.outbox.OutboxRelay;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.vertx.VertxContextSupport;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Relays running at once (the nudge after each commit, the scheduled tick, other replicas) used to take disjoint
 * batches of the outbox and send them concurrently, so a document's events could leave out of order. Now one relay
 * runs at a time: whatever the relays racing, each document's events leave once each, in the order written.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class OutboxOrderTest {

    private static final int DOCUMENTS = 5;
    private static final int EVENTS = 1_500;

    @Inject
    Pool db;

    @Inject
    OutboxRelay relay;

    @Test
    void racingRelaysKeepEachDocumentsOrder() throws Exception {
        String topic = "osfria.test-outbox-order." + UUID.randomUUID();
        try (TopicProbe probe = TopicProbe.open(topic)) {
            List<Tuple> rows = new ArrayList<>();
            for (int i = 0; i < EVENTS; i++) {
                rows.add(Tuple.of(topic, "doc_" + (i % DOCUMENTS), String.valueOf(i)));
            }
            db.preparedQuery("INSERT INTO outbox (topic, event_key, payload) VALUES ($1, $2, $3)").executeBatch(rows)
                    .await().atMost(Duration.ofSeconds(30));
            ExecutorService racers = Executors.newFixedThreadPool(6);
            try {
                List<Future<Integer>> passes = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    passes.add(racers.submit(() -> {
                        try {
                            return VertxContextSupport.subscribeAndAwait(() -> relay.relay());
                        } catch (Throwable e) {
                            throw new IllegalStateException(e);
                        }
                    }));
                }
                for (Future<Integer> pass : passes) {
                    pass.get();
                }
            } finally {
                racers.shutdownNow();
            }
            List<ConsumerRecord<String, String>> seen = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (seen.size() < EVENTS && System.nanoTime() < deadline) {
                seen = probe.drain(Duration.ofMillis(500));
            }
            seen = probe.drain(Duration.ofSeconds(1));
            assertEquals(EVENTS, seen.size(), "each event once");
            Map<String, Integer> last = new HashMap<>();
            for (ConsumerRecord<String, String> r : seen) {
                int n = Integer.parseInt(r.value());
                Integer before = last.put(r.key(), n);
                assertTrue(before == null || before < n, r.key() + ": event " + n + " left after event " + before);
            }
        }
    }
}
