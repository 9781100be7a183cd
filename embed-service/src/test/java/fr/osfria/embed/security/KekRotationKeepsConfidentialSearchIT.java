package fr.osfria.embed.security;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.document.DocumentChunk;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.Keyring;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.PackagedService;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, item 7: the KEK is rotated twice (kek-1 → kek-2 → kek-3), the earlier one retired each time, then removed
 * after a re-seal. The packaged service restarts with each keyring; keyword and dense search keep finding (and
 * opening) confidential chunks indexed before each rotation. Before the keyring, keyword search stopped finding
 * them after the first rotation: the query's blind terms were keyed by the new KEK only.
 */
class KekRotationKeepsConfidentialSearchIT {

    private static final String A = "q1sI2lFwqtg6qGvDhoJDhn2JX5vwVfCJmCh1ZGbk2Ow=";
    private static final String B = "3q8vQ0pWlq0iM0nHnY4mJ8ZrjGfHq1fN9cQmXk7bqS0=";
    private static final String C = "m2H7yYt3c4ZkWQk9pS2d1Lr8Vx0aBn5eF6gJ7hK8iL4=";
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final String COLLECTION = "rotation-" + RUN;
    private final HttpClient http = HttpClient.newHttpClient();
    /** Each document's unusual word, the one keyword search is asked for. */
    private final Map<String, String> words = new LinkedHashMap<>();

    @Test
    void confidentialChunksStayFoundAcrossTwoRotations() throws Exception {
        String index = Files.createTempDirectory("osfria-rotation-index").toString();
        Envelope kek1 = envelope("kek-1", A, Map.of());
        Envelope kek2 = envelope("kek-2", B, Map.of());
        Envelope kek3 = envelope("kek-3", C, Map.of());

        try (PackagedService service = start(index, Map.of("OSFRIA_ENCRYPTION_KEK", A))) { // as configured before the keyring
            publish(kek1, "doc_one" + RUN, "zanzibarite");
            assertFoundEverywhere(service, "before any rotation");
        }
        try (PackagedService service = start(index, Map.of("OSFRIA_ENCRYPTION_KEK", "kek-2:" + B,
                "OSFRIA_ENCRYPTION_RETIRED_KEKS", "kek-1:" + A))) {
            assertFoundEverywhere(service, "after rotation 1, before the re-seal");
            publish(kek1, "doc_two" + RUN, "quokkaform"); // sealed by ingest before its own re-seal
            assertFoundEverywhere(service, "after rotation 1, a chunk wrapped under the retired KEK");
            JsonNode report = reseal(service);
            assertTrue(report.get("resealed").asInt() >= 1, report.toString());
            assertEquals(0, report.get("remaining").asInt(), report.toString());
            assertFoundEverywhere(service, "after rotation 1 and its re-seal");
        }
        try (PackagedService service = start(index, Map.of("OSFRIA_ENCRYPTION_KEK", "kek-3:" + C,
                "OSFRIA_ENCRYPTION_RETIRED_KEKS", "kek-2:" + B))) {
            assertFoundEverywhere(service, "after rotation 2, kek-1 removed");
            publish(kek2, "doc_three" + RUN, "pangolinery");
            assertFoundEverywhere(service, "after rotation 2, a chunk wrapped under kek-2");
            JsonNode report = reseal(service);
            assertEquals(0, report.get("remaining").asInt(), report.toString());
            assertEquals(0, report.get("unreadable").asInt(), report.toString());
        }
        try (PackagedService service = start(index, Map.of("OSFRIA_ENCRYPTION_KEK", "kek-3:" + C))) {
            assertFoundEverywhere(service, "with kek-3 alone");
            publish(kek3, "doc_four" + RUN, "wombatology");
            assertFoundEverywhere(service, "with kek-3 alone, a new chunk");
        }
    }

    private static Envelope envelope(String id, String base64, Map<String, byte[]> retired) {
        return new Envelope(new Keyring(id, Base64.getDecoder().decode(base64), retired));
    }

    private PackagedService start(String index, Map<String, String> env) throws Exception {
        return PackagedService.start(Map.of(
                "kafka.bootstrap.servers", InJvmKafka.bootstrapServers(),
                "mp.messaging.incoming.chunks.group.id", "embed-rotation-" + RUN,
                "mp.messaging.incoming.retirements.group.id", "embed-rotation-retirements-" + RUN,
                "osfria.security.keys-file", TestKeys.FILE.toString(),
                "osfria.embed.index-dir", index), env, Duration.ofSeconds(300));
    }

    /** A confidential chunk as ingest-service seals it, under the given KEK. */
    private void publish(Envelope envelope, String doc, String word) {
        words.put(doc, word);
        SecretKey dataKey = envelope.newDataKey();
        String id = "chunk_" + doc.substring(4) + "_v1_0";
        String text = "Le rapport confidentiel mentionne la " + word + " du trimestre.";
        DocumentChunk chunk = new DocumentChunk(doc, 1, id, 0, 1, COLLECTION, "finance", true, true, 1,
                Aead.sealText(dataKey, "Résultats", id + "#section"), Aead.sealText(dataKey, text, id),
                Map.of("department", "finance", "confidential", true), envelope.wrap(dataKey));
        TopicProbe.send(Topics.DOCUMENT_CHUNKS, doc, EventJson.encode(CloudEvent.of("/osfria/test", EventTypes.DOCUMENT_CHUNKED, doc, chunk)));
    }

    /** Every document so far is found by its word in keyword mode, and in dense mode, with its text opened. */
    private void assertFoundEverywhere(PackagedService service, String when) {
        words.forEach((doc, word) -> {
            for (String mode : new String[] {"keyword", "dense"}) {
                await(when + ": " + doc + " in " + mode + " mode").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(300))
                        .until(() -> found(service, doc, word, mode));
            }
        });
    }

    private boolean found(PackagedService service, String doc, String word, String mode) throws Exception {
        String body = "{\"query\":\"" + word + "\",\"collection\":\"" + COLLECTION + "\",\"mode\":\"" + mode + "\",\"top_k\":10}";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(service.url("/v1/search")))
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode hit : EventJson.MAPPER.readTree(r.body()).get("results")) {
            if (hit.get("document_id").asText().equals(doc)) {
                assertTrue(hit.get("content").asText().contains(word), "opened: " + hit);
                return true;
            }
        }
        return false;
    }

    private JsonNode reseal(PackagedService service) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(service.url("/v1/admin/kek/reseal")))
                .header("Authorization", TestKeys.bearer(TestKeys.ADMIN)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return EventJson.MAPPER.readTree(r.body());
    }
}
