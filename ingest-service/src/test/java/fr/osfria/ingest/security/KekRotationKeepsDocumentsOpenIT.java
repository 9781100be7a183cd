package fr.osfria.ingest.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.Keyring;
import fr.osfria.testing.EmbeddedPostgres;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.PackagedService;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import javax.crypto.SecretKey;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, item 7: the KEK is rotated twice (kek-1 → kek-2 → kek-3) with a re-seal after each, and kek-1, then
 * kek-2, removed. A confidential document uploaded under kek-1 still opens: when it is processed again (a stalled
 * document restarted) with kek-3 alone, its original is read and its chunks go out with its data key wrapped under
 * kek-3, which opens them.
 */
class KekRotationKeepsDocumentsOpenIT {

    private static final String A = "q1sI2lFwqtg6qGvDhoJDhn2JX5vwVfCJmCh1ZGbk2Ow=";
    private static final String B = "3q8vQ0pWlq0iM0nHnY4mJ8ZrjGfHq1fN9cQmXk7bqS0=";
    private static final String C = "m2H7yYt3c4ZkWQk9pS2d1Lr8Vx0aBn5eF6gJ7hK8iL4=";
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private final HttpClient http = HttpClient.newHttpClient();
    private final String database = "ingest_rotation";

    @Test
    void aConfidentialDocumentOpensAfterTwoRotations() throws Exception {
        EmbeddedPostgres.ensureDatabase(database);
        String blobs = Files.createTempDirectory("osfria-rotation-blobs").toString();
        String word = "ornithorynque" + RUN;
        String id;
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            try (PackagedService service = start(blobs, Map.of("OSFRIA_ENCRYPTION_KEK", A), false)) {
                id = upload(service, "Le budget secret prévoit un " + word + " au siège.");
                ConsumerRecord<String, String> first = chunks.await(r -> id.equals(r.key()), Duration.ofSeconds(60));
                assertTrue(wrappedKey(first).startsWith("kek-1:"));
            }
            try (PackagedService service = start(blobs, Map.of("OSFRIA_ENCRYPTION_KEK", "kek-2:" + B,
                    "OSFRIA_ENCRYPTION_RETIRED_KEKS", "kek-1:" + A), false)) {
                JsonNode report = reseal(service);
                assertEquals("kek-2", report.get("kek_id").asText());
                assertTrue(report.get("resealed").asInt() >= 1, report.toString());
                assertEquals(0, report.get("remaining").asInt(), report.toString());
            }
            try (PackagedService service = start(blobs, Map.of("OSFRIA_ENCRYPTION_KEK", "kek-3:" + C,
                    "OSFRIA_ENCRYPTION_RETIRED_KEKS", "kek-2:" + B), false)) {
                JsonNode report = reseal(service);
                assertEquals(0, report.get("remaining").asInt(), report.toString());
                assertEquals(0, report.get("unreadable").asInt(), report.toString());
            }
            // kek-3 alone; the document, still "processing" (no embed-service here), is restarted as stalled
            try (PackagedService service = start(blobs, Map.of("OSFRIA_ENCRYPTION_KEK", "kek-3:" + C), true)) {
                ConsumerRecord<String, String> again = chunks.await(r -> id.equals(r.key()) && wrappedKey(r).startsWith("kek-3:"),
                        Duration.ofSeconds(90));
                JsonNode chunk = EventJson.MAPPER.readTree(again.value()).get("data");
                Envelope kek3Alone = new Envelope(new Keyring("kek-3", Base64.getDecoder().decode(C), Map.of()));
                SecretKey dataKey = kek3Alone.unwrap(chunk.get("wrappedKey").asText());
                assertTrue(Aead.openText(dataKey, chunk.get("text").asText(), chunk.get("chunkId").asText()).contains(word));
                Envelope kek1Alone = new Envelope(new Keyring("kek-1", Base64.getDecoder().decode(A), Map.of()));
                assertThrows(GeneralSecurityException.class, () -> kek1Alone.unwrap(chunk.get("wrappedKey").asText()));
            }
        }
    }

    private static String wrappedKey(ConsumerRecord<String, String> record) {
        try {
            return EventJson.MAPPER.readTree(record.value()).get("data").path("wrappedKey").asText();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private PackagedService start(String blobs, Map<String, String> env, boolean restartStalled) throws Exception {
        int pg = EmbeddedPostgres.port();
        // a group per channel: in one shared group each consumer's leave at a stop made the others rebalance, one
        // after the other (8 s per stop)
        Map<String, String> props = new java.util.HashMap<>(Map.of(
                "kafka.bootstrap.servers", InJvmKafka.bootstrapServers(),
                "mp.messaging.incoming.uploads.group.id", "ingest-rotation-" + RUN,
                "mp.messaging.incoming.index-results.group.id", "ingest-rotation-results-" + RUN,
                "mp.messaging.incoming.audit-records.group.id", "ingest-rotation-audit-" + RUN,
                "quarkus.datasource.reactive.url", "postgresql://127.0.0.1:" + pg + "/" + database,
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:" + pg + "/" + database,
                "quarkus.datasource.username", EmbeddedPostgres.USER,
                "quarkus.datasource.password", EmbeddedPostgres.PASSWORD,
                "osfria.security.keys-file", TestKeys.FILE.toString(),
                "osfria.ingest.blob-dir", blobs));
        if (restartStalled) {
            props.put("osfria.ingest.stall.timeout", "1s");
            props.put("osfria.ingest.stall.check-interval", "1s");
        }
        return PackagedService.start(props, env, Duration.ofSeconds(300));
    }

    private String upload(PackagedService service, String text) throws Exception {
        String boundary = "osfria" + RUN;
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        part(body, boundary, "collection", null, "knowledge-base");
        part(body, boundary, "metadata", null, "{\"department\":\"finance\",\"confidential\":true}");
        part(body, boundary, "file", "budget-" + RUN + ".txt", text);
        body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(service.url("/v1/documents")))
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                .header("content-type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, r.statusCode(), r.body());
        return EventJson.MAPPER.readTree(r.body()).get("document_id").asText();
    }

    private static void part(ByteArrayOutputStream out, String boundary, String name, String filename, String value) {
        String header = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\""
                + (filename == null ? "" : "; filename=\"" + filename + "\"\r\nContent-Type: text/plain") + "\r\n\r\n";
        out.writeBytes(header.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }

    private JsonNode reseal(PackagedService service) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(service.url("/v1/admin/kek/reseal")))
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return EventJson.MAPPER.readTree(r.body());
    }
}
