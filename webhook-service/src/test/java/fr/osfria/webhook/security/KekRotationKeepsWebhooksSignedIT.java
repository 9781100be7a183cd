package fr.osfria.webhook.security;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.testing.EmbeddedPostgres;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.PackagedService;
import fr.osfria.testing.TestKeys;
import fr.osfria.webhook.signing.Signatures;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, item 7: the KEK is rotated twice (kek-1 → kek-2 → kek-3), the earlier one retired each time and the
 * first one removed after a re-seal. The packaged service restarts with each keyring; a subscription made under
 * kek-1 keeps receiving deliveries signed with its secret throughout, and is never disabled. Before the keyring,
 * the first rotation already left the secret unreadable ("the subscription's secret cannot be read").
 */
class KekRotationKeepsWebhooksSignedIT {

    private static final String A = "q1sI2lFwqtg6qGvDhoJDhn2JX5vwVfCJmCh1ZGbk2Ow=";
    private static final String B = "3q8vQ0pWlq0iM0nHnY4mJ8ZrjGfHq1fN9cQmXk7bqS0=";
    private static final String C = "m2H7yYt3c4ZkWQk9pS2d1Lr8Vx0aBn5eF6gJ7hK8iL4=";
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<String[]> received = new CopyOnWriteArrayList<>(); // id, timestamp, signature, body
    private final String database = "webhook_rotation";

    @Test
    void secretsSealedBeforeTwoRotationsStillSignDeliveries() throws Exception {
        EmbeddedPostgres.ensureDatabase(database);
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hooks", x -> {
            received.add(new String[] {x.getRequestHeaders().getFirst("webhook-id"), x.getRequestHeaders().getFirst("webhook-timestamp"),
                    x.getRequestHeaders().getFirst("webhook-signature"), new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)});
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        receiver.start();
        String target = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hooks";
        try {
            String subscription;
            String secret;
            // kek-1, configured as before the keyring existed: a bare KEK
            try (PackagedService service = start(Map.of("OSFRIA_ENCRYPTION_KEK", A))) {
                JsonNode created = subscribe(service, target);
                subscription = created.get("id").asText();
                secret = created.get("secret").asText();
                assertSignedDeliveryArrives("before any rotation", secret);
            }
            // rotation 1: kek-2 active, kek-1 retired
            try (PackagedService service = start(Map.of("OSFRIA_ENCRYPTION_KEK", "kek-2:" + B, "OSFRIA_ENCRYPTION_RETIRED_KEKS", "kek-1:" + A))) {
                assertSignedDeliveryArrives("after rotation 1, before the re-seal", secret);
                assertEquals(403, post(service, "/v1/admin/kek/reseal", TestKeys.FINANCE).statusCode(), "admins only");
                JsonNode report = reseal(service);
                assertEquals("kek-2", report.get("kek_id").asText());
                assertTrue(report.get("resealed").asInt() >= 1, report.toString());
                assertEquals(0, report.get("remaining").asInt(), report.toString());
                assertSignedDeliveryArrives("after rotation 1 and its re-seal", secret);
            }
            // rotation 2: kek-3 active, kek-2 retired, kek-1 removed
            try (PackagedService service = start(Map.of("OSFRIA_ENCRYPTION_KEK", "kek-3:" + C, "OSFRIA_ENCRYPTION_RETIRED_KEKS", "kek-2:" + B))) {
                assertSignedDeliveryArrives("after rotation 2, kek-1 removed", secret);
                JsonNode report = reseal(service);
                assertEquals(0, report.get("remaining").asInt(), report.toString());
                assertEquals(0, report.get("unreadable").asInt(), report.toString());
                JsonNode s = EventJson.MAPPER.readTree(get(service, "/v1/webhooks/" + subscription).body());
                assertTrue(s.get("active").asBoolean(), s.toString());
                assertFalse(s.has("disabled_reason"), s.toString());
            }
            // only kek-3 now: everything was re-sealed under it
            try (PackagedService service = start(Map.of("OSFRIA_ENCRYPTION_KEK", "kek-3:" + C))) {
                assertSignedDeliveryArrives("with kek-3 alone", secret);
            }
        } finally {
            receiver.stop(0);
        }
    }

    private PackagedService start(Map<String, String> env) throws Exception {
        int pg = EmbeddedPostgres.port();
        return PackagedService.start(Map.of(
                "kafka.bootstrap.servers", InJvmKafka.bootstrapServers(),
                "mp.messaging.incoming.public-events.group.id", "webhook-rotation",
                "quarkus.datasource.reactive.url", "postgresql://127.0.0.1:" + pg + "/" + database,
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:" + pg + "/" + database,
                "quarkus.datasource.username", EmbeddedPostgres.USER,
                "quarkus.datasource.password", EmbeddedPostgres.PASSWORD,
                "osfria.security.keys-file", TestKeys.FILE.toString(),
                "osfria.webhook.allowed-hosts", "127.0.0.1,localhost",
                "osfria.webhook.poll-interval", "200ms",
                "osfria.webhook.retry-schedule", "200ms,400ms"), env, Duration.ofSeconds(300));
    }

    /** Publishes an event the subscription asked for; the delivery arrives, signed with the secret shown at creation. */
    private void assertSignedDeliveryArrives(String when, String secret) throws Exception {
        String documentId = "doc_" + UUID.randomUUID();
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(Topics.PUBLIC_EVENTS, documentId, EventJson.encode(CloudEvent.of("/osfria/test",
                    EventTypes.DOCUMENT_DELETED, documentId, Map.of("documentId", documentId, "collection", "finance"))))).get();
        }
        await(when).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> received.stream().anyMatch(r -> r[3].contains(documentId)));
        List<String[]> deliveries = received.stream().filter(r -> r[3].contains(documentId)).toList();
        byte[] key = Signatures.key(secret);
        for (String[] r : deliveries) {
            assertEquals(Signatures.standard(key, r[0], Long.parseLong(r[1]), r[3]), r[2], when + ": the signature matches the secret");
        }
    }

    private JsonNode subscribe(PackagedService service, String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(service.url("/v1/webhooks")))
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"" + url + "\",\"events\":[\"document.deleted\"]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return EventJson.MAPPER.readTree(r.body());
    }

    private JsonNode reseal(PackagedService service) throws Exception {
        HttpResponse<String> r = post(service, "/v1/admin/kek/reseal", TestKeys.ADMIN);
        assertEquals(200, r.statusCode(), r.body());
        return EventJson.MAPPER.readTree(r.body());
    }

    private HttpResponse<String> post(PackagedService service, String path, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(service.url(path))).header("Authorization", TestKeys.bearer(key))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(PackagedService service, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(service.url(path))).header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
