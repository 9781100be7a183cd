package fr.osfria.webhook.bench;

import static io.restassured.RestAssured.given;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Not a test: figures, run with {@code bench/webhook.sh}. Deliveries per second to a local receiver, the latency
 * from an event on Kafka to its first attempt, and a run where the receiver flaps, counted for lost deliveries; all
 * with a drip-feeding receiver (200, then a byte every 5 s) subscribed to the same events.
 */
@QuarkusTest
@io.quarkus.test.junit.TestProfile(DeliveryBenchmark.PatientRetries.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class DeliveryBenchmark {

    @jakarta.inject.Inject
    io.vertx.mutiny.sqlclient.Pool db;

    private static final int EVENTS = 10_000;

    /** Retries spread over seconds, as the production schedule spreads them over hours, so flaps are ridden out. */
    public static class PatientRetries implements io.quarkus.test.junit.QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("osfria.webhook.retry-schedule", "100ms,200ms,400ms,800ms,1s,2s,4s,8s");
        }
    }

    @Test
    void figures() throws Exception {
        Vertx vertx = Vertx.vertx();
        Map<String, Long> firstSeen = new ConcurrentHashMap<>();
        Set<String> delivered = ConcurrentHashMap.newKeySet();
        AtomicInteger flap = new AtomicInteger(); // > 0: answer 503 to that many more requests
        HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            String model = body.toString().replaceAll(".*\"model\":\"([^\"]+)\".*", "$1");
            firstSeen.putIfAbsent(model, System.nanoTime());
            if (flap.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                req.response().setStatusCode(503).end();
                return;
            }
            delivered.add(model);
            req.response().setStatusCode(204).end();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("url", "http://127.0.0.1:" + server.actualPort() + "/h", "events", List.of("model.loaded")))
                .post("/v1/webhooks").then().statusCode(201);
        // a drip receiver subscribed to the same events: answers 200, then one byte every 5 s and never ends its body
        AtomicInteger dripped = new AtomicInteger();
        HttpServer drip = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            dripped.incrementAndGet();
            req.response().setChunked(true).setStatusCode(200).write("x");
            long timer = vertx.setPeriodic(5_000, id -> req.response().write("x"));
            req.connection().closeHandler(v -> vertx.cancelTimer(timer));
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("url", "http://127.0.0.1:" + drip.actualPort() + "/drip", "events", List.of("model.loaded")))
                .post("/v1/webhooks").then().statusCode(201);

        Map<String, Long> sentAt = new ConcurrentHashMap<>();
        // warm-up, finished before the measured run starts so the two do not share the time
        awaitAll(run(EVENTS, sentAt, delivered), delivered, Duration.ofMinutes(5));
        Thread.sleep(1000);
        long start = System.nanoTime();
        java.time.OffsetDateTime startedAt = java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC);
        List<String> models = run(EVENTS, sentAt, delivered);
        awaitAll(models, delivered, Duration.ofMinutes(5));
        double seconds = (System.nanoTime() - start) / 1e9;
        List<Long> latencies = new ArrayList<>();
        for (String m : models) {
            latencies.add((firstSeen.get(m) - sentAt.get(m)) / 1_000_000);
        }
        latencies.sort(Long::compare);
        System.out.printf("BENCH %d deliveries to a local receiver in %.1f s: %.0f deliveries/s (target >= 5000/s), with a drip"
                + " receiver subscribed to the same events (%d requests reached it so far)%n", EVENTS, seconds, EVENTS / seconds, dripped.get());
        System.out.printf("BENCH event on Kafka -> first attempt: p50 %d ms, p99 %d ms%n",
                latencies.get(latencies.size() / 2), latencies.get((int) (latencies.size() * 0.99)));
        // where the time goes: events taken in (delivery rows created) against attempts made
        db.preparedQuery("""
                SELECT (SELECT EXTRACT(EPOCH FROM max(created_at) - min(created_at)) FROM delivery
                          WHERE created_at > $1) AS intake,
                       (SELECT EXTRACT(EPOCH FROM max(attempted_at) - min(attempted_at)) FROM delivery_attempt
                          WHERE attempted_at > $1) AS sending,
                       (SELECT EXTRACT(EPOCH FROM min(a.attempted_at) - min(d.created_at)) FROM delivery d, delivery_attempt a
                          WHERE d.created_at > $1 AND a.attempted_at > $1) AS gap""")
                .execute(io.vertx.mutiny.sqlclient.Tuple.of(startedAt)).await().indefinitely()
                .forEach(r -> System.out.printf("BENCH intake window %.2f s, attempt window %.2f s, first row to first attempt %.2f s%n",
                        r.getDouble("intake"), r.getDouble("sending"), r.getDouble("gap")));

        // latency at a steady 500 events/s, the way events really arrive, rather than in one burst
        List<String> steady = new ArrayList<>();
        for (int second = 0; second < 4; second++) {
            long tick = System.nanoTime();
            steady.addAll(run(500, sentAt, delivered));
            Thread.sleep(Math.max(0, 1000 - (System.nanoTime() - tick) / 1_000_000));
        }
        awaitAll(steady, delivered, Duration.ofMinutes(2));
        List<Long> steadyLatencies = new ArrayList<>();
        for (String m : steady) {
            steadyLatencies.add((firstSeen.get(m) - sentAt.get(m)) / 1_000_000);
        }
        steadyLatencies.sort(Long::compare);
        System.out.printf("BENCH at 500 events/s (batches of 500 each second): event -> first attempt p50 %d ms, p99 %d ms%n",
                steadyLatencies.get(steadyLatencies.size() / 2), steadyLatencies.get((int) (steadyLatencies.size() * 0.99)));

        // the receiver flaps: every so often it answers 503 to the next 50 requests
        Thread flapper = new Thread(() -> {
            for (int i = 0; i < 10; i++) {
                flap.set(50);
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        flapper.start();
        List<String> flapping = run(1_000, sentAt, delivered);
        flapper.join();
        int lost = awaitAll(flapping, delivered, Duration.ofMinutes(3));
        System.out.printf("BENCH flapping receiver (10 bursts of 503): 1000 events, %d lost%n", lost);
        vertx.close();
    }

    private static List<String> run(int n, Map<String, Long> sentAt, Set<String> delivered) {
        Properties props = new Properties();
        props.put("bootstrap.servers", InJvmKafka.bootstrapServers());
        props.put("linger.ms", "5");
        List<String> models = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < n; i++) {
                String model = "m" + UUID.randomUUID();
                models.add(model);
                sentAt.put(model, System.nanoTime());
                producer.send(new ProducerRecord<>(Topics.PUBLIC_EVENTS, model, EventJson.encode(CloudEvent.of("/bench",
                        EventTypes.MODEL_LOADED, model, new ModelAvailability(model, "gpu", 1)))));
            }
        }
        return models;
    }

    private static int awaitAll(List<String> models, Set<String> delivered, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline && !delivered.containsAll(models)) {
            Thread.sleep(50);
        }
        return (int) models.stream().filter(m -> !delivered.contains(m)).count();
    }
}
