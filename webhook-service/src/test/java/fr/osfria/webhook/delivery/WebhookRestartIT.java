package fr.osfria.webhook.delivery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.testing.EmbeddedPostgres;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.PackagedService;
import fr.osfria.testing.Ports;
import fr.osfria.testing.TestKeys;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The packaged webhook-service, stopped and started again while deliveries are pending: a restart (SIGTERM) loses
 * nothing and sends nothing twice; a crash (SIGKILL) loses nothing, and what it sends again keeps its webhook-id.
 */
class WebhookRestartIT {

    private static final int EVENTS = 300;
    private final HttpClient http = HttpClient.newHttpClient();
    private String database = "webhook_restart";
    private int port;
    /** The service now running: stopped after the test whatever happens (a failed run left it running, polling forever). */
    private Process service;

    @org.junit.jupiter.api.AfterEach
    void stopService() throws InterruptedException {
        if (service != null && service.isAlive()) {
            service.destroyForcibly();
            service.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void restartsAndCrashesLoseNothing() throws Exception {
        EmbeddedPostgres.ensureDatabase(database);
        port = Ports.free();
        try (Receiver receiver = new Receiver()) {
            receiver.delayMillis = 300; // a slow receiver: deliveries are in flight when the service stops
            service = start();
            String subscription = subscribe(receiver.url());

            // 1. a restart: graceful stop while deliveries are in flight
            publish(EVENTS, "restart");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> receiver.received.size() >= 1);
            java.time.Instant stoppedAt = java.time.Instant.now();
            service.destroy();
            assertTrue(service.waitFor(60, TimeUnit.SECONDS), "the service did not stop");
            service = start();
            java.time.Instant restartedAt = java.time.Instant.now();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> distinct(receiver, "restart") == EVENTS);
            Thread.sleep(2000);
            Map<String, Long> counts = counts(receiver, "restart");
            assertEquals(EVENTS, counts.size(), "lost deliveries across a restart");
            assertEquals(List.of(), twice(receiver, "restart"), "sent twice across a restart (stopped at " + stoppedAt
                    + ", started again at " + restartedAt + ")");

            // 2. a crash: killed while deliveries are in flight; their leases (10 s here) run out, then they go again
            publish(EVENTS, "crash");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> distinct(receiver, "crash") >= 1);
            service.destroyForcibly();
            service.waitFor(30, TimeUnit.SECONDS);
            service = start();
            // the killed instance's consumer stays in the group until its session runs out, and its partitions wait
            // for it: the next instance must take in new events within seconds of being ready (with Kafka's default
            // 45 s session it took in none for half a minute)
            long ready = System.nanoTime();
            publish(1, "after-crash");
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> distinct(receiver, "after-crash") == 1);
            double seconds = (System.nanoTime() - ready) / 1e9;
            System.out.printf("crash: an event published once the next instance was ready was delivered %.1f s later%n", seconds);
            assertTrue(seconds < 15, "the next instance took in a new event only " + seconds + " s after it was ready");
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> distinct(receiver, "crash") == EVENTS);
            Map<String, Long> afterCrash = counts(receiver, "crash");
            assertEquals(EVENTS, afterCrash.size(), "lost deliveries across a crash");
            long again = afterCrash.values().stream().filter(n -> n > 1).count();
            System.out.printf("crash: %d of %d deliveries were sent again (same webhook-id)%n", again, EVENTS);
            service.destroy();
            service.waitFor(60, TimeUnit.SECONDS);
            assertTrue(subscription.startsWith("wh_"));
        }
    }

    private Process start() throws Exception {
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
        int pg = EmbeddedPostgres.port();
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-Dquarkus.http.port=" + port,
                "-Dkafka.bootstrap.servers=" + InJvmKafka.bootstrapServers(),
                "-Dmp.messaging.incoming.public-events.group.id=" + database,
                "-Dquarkus.datasource.reactive.url=postgresql://127.0.0.1:" + pg + "/" + database,
                "-Dquarkus.datasource.jdbc.url=jdbc:postgresql://127.0.0.1:" + pg + "/" + database,
                "-Dquarkus.datasource.username=" + EmbeddedPostgres.USER,
                "-Dquarkus.datasource.password=" + EmbeddedPostgres.PASSWORD,
                "-Dosfria.security.keys-file=" + TestKeys.FILE,
                "-Dosfria.encryption.kek=q1sI2lFwqtg6qGvDhoJDhn2JX5vwVfCJmCh1ZGbk2Ow=",
                "-Dosfria.webhook.allowed-hosts=127.0.0.1,localhost",
                "-Dosfria.webhook.poll-interval=200ms",
                "-Dosfria.webhook.timeout=2s",
                // short, for the crash's deliveries to go again soon, but not so short that an attempt outlives its
                // lease on a loaded machine (3 s was: a delivery then went again while its first attempt was recorded)
                "-Dosfria.webhook.lease=10s",
                "-Dquarkus.log.level=WARN",
                "-Dquarkus.log.category.\"fr.osfria.webhook.delivery\".level=INFO", // outcomes dropped, in its log
                "-jar", jar.toString()));
        command.addAll(1, PackagedService.QUICK_START);
        Path log = Files.createTempFile("webhook-service", ".log");
        System.out.println("webhook-service's log: " + log);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            // as PackagedService: a boot on a loaded 2-core machine can take over a minute
            await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(100)).until(() -> status("/q/health/ready") == 200);
        } catch (RuntimeException e) {
            p.destroyForcibly(); // not left running after the test
            throw e;
        }
        return p;
    }

    private String subscribe(String url) throws Exception {
        String body = "{\"url\":\"" + url + "\",\"events\":[\"document.deleted\"]}";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/webhooks"))
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return EventJson.MAPPER.readTree(r.body()).get("id").asText();
    }

    private static void publish(int n, String tag) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < n; i++) {
                String id = tag + "-" + i + "-" + UUID.randomUUID();
                producer.send(new ProducerRecord<>(Topics.PUBLIC_EVENTS, id, EventJson.encode(CloudEvent.of("/osfria/test",
                        EventTypes.DOCUMENT_DELETED, id, Map.of("documentId", id)))));
            }
        }
    }

    private static Map<String, Long> counts(Receiver receiver, String tag) {
        return receiver.received.stream().filter(r -> r.body().contains("\"" + tag + "-"))
                .collect(Collectors.groupingBy(r -> r.headers().get("webhook-id"), Collectors.counting()));
    }

    /** The webhook-ids received more than once, each with the times it arrived. */
    private static List<String> twice(Receiver receiver, String tag) {
        return receiver.received.stream().filter(r -> r.body().contains("\"" + tag + "-"))
                .collect(Collectors.groupingBy(r -> r.headers().get("webhook-id"),
                        Collectors.mapping(r -> r.at().toString(), Collectors.toList())))
                .entrySet().stream().filter(e -> e.getValue().size() > 1).map(e -> e.getKey() + " at " + e.getValue()).toList();
    }

    private static long distinct(Receiver receiver, String tag) {
        return counts(receiver, tag).size();
    }

    private int status(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

}
