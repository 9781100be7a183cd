package fr.osfria.router.bench;

import fr.osfria.events.Topics;
import fr.osfria.router.batch.BatchRunner;
import fr.osfria.router.batch.BatchTestSupport;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.LoadAverage;
import fr.osfria.testing.OpenAiSimulator;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Not a test: figures, run with {@code bench/batch.sh}. Interactive latency with and without batch work. Two
 * simulated vLLM servers that generate at most {@code bench.capacity} requests at once (16; the rest wait in their
 * queue, which {@code /metrics} reports, as vLLM's does), each answer taking {@code bench.delay-ms} (200). A few
 * interactive clients call the router in a closed loop, in interleaved slices: alone (the baseline), then while a
 * batch of {@code bench.batch} (1,000) chat requests on an application's {@code inference.v1} keeps the batch lane
 * full. Prints the interactive p50/p95/p99 of both, their ratio (target: p95 within 10 %), and each batch's time
 * to its last answer with the answers lost and repeated (read_committed).
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(BatchLaneBenchmark.Backends.class)
class BatchLaneBenchmark {

    static final String MODEL = "bench/model";
    static final int CAPACITY = Integer.getInteger("bench.capacity", 16);
    static final int DELAY_MS = Integer.getInteger("bench.delay-ms", 200);
    static final int BATCH = Integer.getInteger("bench.batch", 1000);
    static final int CLIENTS = Integer.getInteger("bench.clients", 4);
    static final int SECONDS = Integer.getInteger("bench.seconds", 8);
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    /** The router's batch lane per backend: half the capacity; above it (e.g. 2x) shows what the lane prevents. */
    static final int LANE = Integer.getInteger("bench.lane", CAPACITY / 2);

    /** Both backends with a bounded batch size; the router's batch lane below it (half of it, the default rule). */
    public static class Backends implements QuarkusTestResourceLifecycleManager {
        static OpenAiSimulator a;
        static OpenAiSimulator b;

        @Override
        public Map<String, String> start() {
            a = OpenAiSimulator.start(MODEL);
            b = OpenAiSimulator.start(MODEL);
            for (OpenAiSimulator s : List.of(a, b)) {
                s.capacity(CAPACITY);
                s.firstTokenDelay(DELAY_MS);
            }
            Map<String, String> config = new HashMap<>();
            config.put("osfria.router.backends", a.baseUrl() + "," + b.baseUrl());
            config.put("osfria.router.probe-interval", "200ms");
            config.put("osfria.router.batch.max-load-per-backend", String.valueOf(LANE));
            return config;
        }

        @Override
        public void stop() {
            a.close();
            b.close();
        }
    }

    @Inject
    BatchRunner lane;

    @Test
    void figures() throws Exception {
        String app = BatchTestSupport.application("bench", null);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI uri = fr.osfria.router.RouterClient.uri("/v1/chat/completions");
        System.out.printf("BENCH batch lane: %d backends x capacity %d, %d ms an answer, batch lane %d per backend, "
                + "%d interactive clients, %d rounds of %d s, batches of %d%n", 2, CAPACITY, DELAY_MS, LANE,
                CLIENTS, ROUNDS, SECONDS, BATCH);
        interactive(http, uri, 5); // warm-up
        List<Long> alone = new ArrayList<>();
        List<Long> withBatch = new ArrayList<>();
        try (TopicProbe results = TopicProbe.open(Topics.appResults(app))) {
            for (int round = 1; round <= ROUNDS; round++) {
                String load = LoadAverage.now();
                alone.addAll(interactive(http, uri, SECONDS));
                System.out.printf("BENCH round %d alone: load %s -> %s%n", round, load, LoadAverage.now());

                Map<String, String> lines = new LinkedHashMap<>();
                for (int i = 0; i < BATCH; i++) {
                    lines.put("r" + round + "-" + i, BatchTestSupport.line("r" + round + "-" + i, 4).replace(
                            fr.osfria.router.SimulatedBackends.LLAMA, MODEL));
                }
                long start = System.nanoTime();
                BatchTestSupport.send(app, lines);
                long saturated = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (lane.waiting() == 0 && System.nanoTime() < saturated) { // the lane is full, work waits
                    Thread.sleep(20);
                }
                load = LoadAverage.now();
                withBatch.addAll(interactive(http, uri, SECONDS));
                int waitingAfter = lane.waiting();
                Set<String> answered = new HashSet<>();
                int[] repeated = {0};
                String prefix = "r" + round + "-";
                results.await(r -> {
                    if (r.key().startsWith(prefix) && !answered.add(r.key())) {
                        repeated[0]++;
                    }
                    return answered.size() >= BATCH;
                }, Duration.ofMinutes(10));
                double took = (System.nanoTime() - start) / 1e9;
                for (ConsumerRecord<String, String> r : results.drain(Duration.ofSeconds(1))) {
                    if (r.key().startsWith(prefix) && !answered.contains(r.key())) {
                        answered.add(r.key());
                    }
                }
                System.out.printf("BENCH round %d with batch: load %s -> %s; batch lane still full at the end of the "
                                + "slice: %s (%d waiting); %d requests answered in %.1f s (%.0f/s), lost %d, repeated %d%n",
                        round, load, LoadAverage.now(), waitingAfter > 0, waitingAfter, answered.size(), took,
                        BATCH / took, BATCH - answered.size(), repeated[0]);
            }
        }
        report("interactive alone", alone, null);
        report("interactive with batch", withBatch, alone);
        double ratio = pct(withBatch, 95) / pct(alone, 95);
        System.out.printf("BENCH interactive p95 with batch / alone: %.3f (target <= 1.10)%n", ratio);
    }

    /** {@link #CLIENTS} clients, each sending its next request when the last is answered, for {@code seconds}. */
    private static List<Long> interactive(HttpClient http, URI uri, int seconds) throws Exception {
        String body = "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4}";
        List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger failed = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        for (int c = 0; c < CLIENTS; c++) {
            pool.submit(() -> {
                while (running.get()) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("content-type", "application/json")
                                .header("authorization", "Bearer " + TestKeys.READER)
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200) {
                            latencies.add(System.nanoTime() - t0);
                        } else {
                            failed.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
                return null;
            });
        }
        Thread.sleep(seconds * 1000L);
        running.set(false);
        pool.shutdown();
        pool.awaitTermination(60, TimeUnit.SECONDS);
        if (failed.get() > 0) {
            System.out.printf("BENCH interactive requests failed: %d%n", failed.get());
        }
        return new ArrayList<>(latencies);
    }

    private static void report(String name, List<Long> latencies, List<Long> baseline) {
        String against = baseline == null ? "" : String.format(" (alone: p95 %.1f ms)", pct(baseline, 95) / 1e6);
        System.out.printf("BENCH %s: %d requests, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms%s%n", name, latencies.size(),
                pct(latencies, 50) / 1e6, pct(latencies, 95) / 1e6, pct(latencies, 99) / 1e6, against);
    }

    private static double pct(List<Long> values, double p) {
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)];
    }
}
