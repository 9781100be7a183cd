package fr.osfria.local.bench;

import fr.osfria.testing.LoadAverage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Where a keyword search's time goes outside the search itself, on a running platform: calls that each add one step
 * to the one before, interleaved so that the machine's load weighs on all of them alike. The bare HTTP round trip to
 * embed-service (an unknown path), a search refused for a bad filter (the key check and the audit record, nothing
 * else), a plain Kafka producer with the audit channel's settings waiting for one record's acknowledgement from the
 * platform's broker (what the audit's wait cannot go under), the search on embed-service's port, and through the
 * entry port. The HTTP steps, and the document list, once more with a blocking client on kept-alive sockets
 * ({@link SocketHttp}): what the JDK client's own thread hand-offs add to each call is not the platform's time.
 */
final class SearchTax {

    static final String SEARCH = "{\"query\":\"remboursement des frais\",\"collection\":\"bench\",\"mode\":\"keyword\",\"top_k\":5}";
    private static final String BAD_FILTER = "{\"query\":\"remboursement des frais\",\"collection\":\"bench\",\"filters\":{\" \":\"x\"}}";

    private final HttpClient http;
    private final String entry;
    private final String embed;
    private final String ingest;
    private final String key;
    private final String kafkaBootstrap;

    SearchTax(HttpClient http, String entry, String embed, String ingest, String key, String kafkaBootstrap) {
        this.http = http;
        this.entry = entry;
        this.embed = embed;
        this.ingest = ingest;
        this.key = key;
        this.kafkaBootstrap = kafkaBootstrap;
    }

    /** Prints one BENCH line: p50/p95 of each step over {@code n} rounds (after 50 unmeasured ones). */
    void print(int n) throws Exception {
        Map<String, List<Double>> steps = new LinkedHashMap<>();
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap);
        // the audit channel's settings (platform-security's application.properties): every in-sync replica, no linger
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        String record = "x".repeat(600); // an audit record's size
        Map<String, List<Double>> socketSteps = new LinkedHashMap<>();
        String list = "/v1/documents?collection=bench&limit=5";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props);
             SocketHttp embedSocket = new SocketHttp(embed); SocketHttp entrySocket = new SocketHttp(entry);
             SocketHttp ingestSocket = new SocketHttp(ingest)) {
            for (int i = 0; i < n + 50; i++) {
                boolean measured = i >= 50;
                time(steps, measured, "bare HTTP round trip", () -> expect(send(HttpRequest.newBuilder(URI.create(embed + "/v1/nothing-here")).GET()), 404));
                time(steps, measured, "+ key check + audit record (bad filter, 400)", () -> expect(send(search(embed, BAD_FILTER)), 400));
                time(steps, measured, "broker ack alone (plain producer, acks=all, linger.ms=0)",
                        () -> producer.send(new ProducerRecord<>("bench.audit-acks", "bench", record)).get(10, TimeUnit.SECONDS));
                time(steps, measured, "search, embed-service's port", () -> expect(send(search(embed, SEARCH)), 200));
                time(steps, measured, "search, entry port", () -> expect(send(search(entry, SEARCH)), 200));
                time(socketSteps, measured, "bare HTTP round trip", () -> expect(embedSocket.get("/v1/nothing-here", null), 404));
                time(socketSteps, measured, "+ key check + audit record (400)", () -> expect(embedSocket.post("/v1/search", key, BAD_FILTER), 400));
                time(socketSteps, measured, "search, embed-service's port", () -> expect(embedSocket.post("/v1/search", key, SEARCH), 200));
                time(socketSteps, measured, "search, entry port", () -> expect(entrySocket.post("/v1/search", key, SEARCH), 200));
                time(socketSteps, measured, "list, ingest-service's port", () -> expect(ingestSocket.get(list, key), 200));
                time(socketSteps, measured, "list, entry port", () -> expect(entrySocket.get(list, key), 200));
            }
        }
        System.out.printf("BENCH where a search's fixed tax goes, %d interleaved rounds:%s load average %s%n", n, figures(steps), LoadAverage.now());
        System.out.printf("BENCH the same calls with a blocking client on kept-alive sockets (no client threads), interleaved with the"
                + " above:%s load average %s%n", figures(socketSteps), LoadAverage.now());
    }

    /**
     * Prints one BENCH line: searches alone through the entry port, one after another on one kept-alive socket (no
     * other call between them, no client threads), {@code n} measured after {@code warmup} more: what a client of a
     * warm platform that only searches waits, against the search's own {@code search_time_ms} (issue 19's target: at
     * most 3 ms more). The interleaved steps of {@link #print} add load of their own (the JDK client's threads, the
     * plain producer, the lists' audit records), which this figure leaves out.
     */
    void printSearchesAlone(int warmup, int n) throws Exception {
        List<Double> ms = new ArrayList<>();
        List<Double> reported = new ArrayList<>();
        try (SocketHttp entrySocket = new SocketHttp(entry)) {
            for (int i = 0; i < warmup + n; i++) {
                long t = System.nanoTime();
                SocketHttp.Answer answer = entrySocket.post("/v1/search", key, SEARCH);
                double elapsed = (System.nanoTime() - t) / 1e6;
                expect(answer, 200);
                if (i >= warmup) {
                    ms.add(elapsed);
                    reported.add(Double.parseDouble(BenchPlatform.field(answer.body(), "search_time_ms")));
                }
            }
        }
        Collections.sort(ms);
        Collections.sort(reported);
        double over = quantile(ms, 0.5) - quantile(reported, 0.5);
        System.out.printf("BENCH searches alone through the entry port (blocking client on one kept-alive socket), %d after %d:"
                        + " end to end p50 %.2f / p95 %.2f ms, search_time_ms p50 %.1f ms: p50 %.2f ms over it (target <= 3 ms: %s);"
                        + " load average %s%n", n, warmup, quantile(ms, 0.5), quantile(ms, 0.95), quantile(reported, 0.5), over,
                over <= 3 ? "met" : "not met", LoadAverage.now());
    }

    private static String figures(Map<String, List<Double>> steps) {
        StringBuilder line = new StringBuilder();
        for (Map.Entry<String, List<Double>> step : steps.entrySet()) {
            List<Double> ms = step.getValue();
            Collections.sort(ms);
            line.append(String.format(" %s p50 %.2f / p95 %.2f ms;", step.getKey(), quantile(ms, 0.5), quantile(ms, 0.95)));
        }
        return line.toString();
    }

    static HttpRequest.Builder search(String base, String body, String key) {
        return HttpRequest.newBuilder(URI.create(base + "/v1/search")).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    static double quantile(List<Double> sorted, double q) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
    }

    private HttpRequest.Builder search(String base, String body) {
        return search(base, body, key);
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void expect(SocketHttp.Answer answer, int status) {
        if (answer.status() != status) {
            throw new AssertionError("answered " + answer.status() + " (expected " + status + "): " + answer.body());
        }
    }

    private static void expect(HttpResponse<String> response, int status) {
        if (response.statusCode() != status) {
            throw new AssertionError(response.uri() + " answered " + response.statusCode() + " (expected " + status + "): " + response.body());
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void time(Map<String, List<Double>> steps, boolean measured, String name, Step step) throws Exception {
        long start = System.nanoTime();
        step.run();
        double ms = (System.nanoTime() - start) / 1e6;
        if (measured) {
            steps.computeIfAbsent(name, k -> new ArrayList<>()).add(ms);
        }
    }
}
