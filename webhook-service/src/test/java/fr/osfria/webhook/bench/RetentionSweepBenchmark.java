package fr.osfria.webhook.bench;

import static io.restassured.RestAssured.given;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.LoadAverage;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.webhook.ModelEvents;
import fr.osfria.webhook.retention.RetentionSweeper;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What the retention's sweep costs the intake and the sender: bursts of 10,000 events to a healthy receiver, in turn
 * alone and while the sweep deletes 200,000 expired deliveries of the same subscription (a quarter with an attempt
 * row). Prints figures only.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class RetentionSweepBenchmark {

    private static final int EVENTS = 10_000;
    private static final int EXPIRED = 200_000;
    private static final int ROUNDS = 3;

    @Inject
    AgroalDataSource db;

    @Inject
    RetentionSweeper retention;

    @Inject
    MeterRegistry registry;

    @Test
    void figures() throws Exception {
        Vertx vertx = Vertx.vertx();
        Set<String> delivered = ConcurrentHashMap.newKeySet();
        HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            delivered.add(ModelEvents.modelOf(body.toString()));
            req.response().setStatusCode(204).end();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        String id = given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).contentType(ContentType.JSON)
                .body(Map.of("url", "http://127.0.0.1:" + server.actualPort() + "/h", "events", List.of("model.loaded")))
                .post("/v1/webhooks").then().statusCode(201).extract().path("id");
        for (int i = 0; i < 2; i++) { // warm-up, a sweep included
            // the paced sweep outlasts a burst: the last one's expired rows go first (else the attempts inserted
            // next would reference deliveries it is deleting)
            awaitNoneExpired(id);
            expire(id);
            retention.soon();
            burst(delivered);
        }
        awaitNoneExpired(id);
        Map<Boolean, List<Double>> rates = new java.util.HashMap<>();
        for (int round = 0; round < 2 * ROUNDS; round++) {
            boolean sweeping = round % 2 == 1;
            if (sweeping) {
                expire(id);
            }
            Thread.sleep(1000);
            double removedBefore = removed();
            long start = System.nanoTime();
            if (sweeping) {
                retention.soon();
            }
            double rate = burst(delivered);
            double burstSeconds = (System.nanoTime() - start) / 1e9;
            double removedInBurst = removed() - removedBefore;
            long sweptAt = sweeping ? awaitNoneExpired(id) : 0;
            System.out.printf("BENCH burst %d, %s: %.0f deliveries/s; %.0f expired deliveries removed during the burst (%.1f s)%s; load average %s%n",
                    round + 1, sweeping ? "while sweeping " + EXPIRED + " expired deliveries" : "no sweep", rate, removedInBurst,
                    burstSeconds, sweeping ? String.format(", all %d removed %.1f s after the burst began", EXPIRED,
                            (sweptAt - start) / 1e9) : "", LoadAverage.now());
            rates.computeIfAbsent(sweeping, k -> new ArrayList<>()).add(rate);
        }
        System.out.printf("BENCH deliveries/s, median of %d bursts of %d events: %.0f while sweeping, %.0f without (ratio %.2f)%n",
                ROUNDS, EVENTS, median(rates.get(true)), median(rates.get(false)), median(rates.get(true)) / median(rates.get(false)));
        vertx.close();
    }

    /** Expired finished deliveries of the subscription, created 31 days ago; a quarter failed, with an attempt row. */
    private void expire(String subscription) throws Exception {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false); // a sweep running meanwhile must not delete deliveries before their attempts are in
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at,
                                          created_at, finished_at, last_status, last_duration_ms)
                    SELECT 'msg_' || md5(? || i || clock_timestamp()), ?, 'old-' || i || '-' || clock_timestamp(), 'model.loaded',
                           '{"event":"model.loaded","timestamp":"2026-10-01T00:00:00Z","data":{"model":"old","backend":"gpu","replicas":1}}',
                           CASE WHEN i % 4 = 0 THEN 'EXHAUSTED' ELSE 'DELIVERED' END, 1, now() - interval '31 days',
                           now() - interval '31 days', now() - interval '31 days', 200, 12
                    FROM generate_series(1, ?) i""")) {
                ps.setString(1, subscription);
                ps.setString(2, subscription);
                ps.setInt(3, EXPIRED);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO delivery_attempt (delivery_id, attempted_at, status_code, duration_ms, error)
                    SELECT id, created_at, 500, 12, NULL FROM delivery WHERE subscription_id = ? AND status = 'EXHAUSTED'""")) {
                ps.setString(1, subscription);
                ps.executeUpdate();
            }
            c.commit();
            c.setAutoCommit(true);
            c.createStatement().execute("ANALYZE delivery");
        }
    }

    /** When no expired delivery is left (nanoTime). */
    private long awaitNoneExpired(String subscription) throws Exception {
        while (true) {
            try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*) FROM delivery WHERE subscription_id = ? AND created_at < now() - interval '30 days'")) {
                ps.setString(1, subscription);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        return System.nanoTime();
                    }
                }
            }
            Thread.sleep(100);
        }
    }

    private double burst(Set<String> delivered) throws InterruptedException {
        long start = System.nanoTime();
        List<String> models = ModelEvents.publish(EVENTS, "/bench", new ConcurrentHashMap<>());
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        int next = 0;
        while (next < models.size() && System.nanoTime() < deadline) {
            while (next < models.size() && delivered.contains(models.get(next))) {
                next++;
            }
            Thread.sleep(50);
        }
        if (next < models.size()) {
            throw new IllegalStateException((models.size() - next) + " events not delivered");
        }
        return EVENTS / ((System.nanoTime() - start) / 1e9);
    }

    private double removed() {
        var counter = registry.find("osfria.webhook.rows.removed").tag("reason", "retention").tag("table", "delivery").counter();
        return counter == null ? 0 : counter.count();
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
