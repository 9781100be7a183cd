package fr.osfria.ingest.security;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import javax.crypto.SecretKey;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Two key holders (or one client retrying) send a new version of the same confidential document at the same moment,
 * again and again. Both wrote the same file {@code <id>/v<n+1>}, each sealed under its own data key: the row could
 * keep one write's data key while the file held the other's, and the document no longer opened ("the stored file
 * cannot be decrypted"); or the two commits collided. Now each write has a file of its own and the versions are
 * recorded one after the other: both are accepted with consecutive versions, the latest version opens and is the
 * content of the request that got its number, and only its file is left.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class ConcurrentNewVersionsLoseTheKeyAttackTest {

    private static final int ROUNDS = 8;
    private static final String CONFIDENTIAL = "{\"department\":\"finance\",\"confidential\":true}";
    private static final Path BLOBS = Path.of("target/test-data/blobs");

    @Inject
    Envelope envelope;

    @Test
    void twoConcurrentNewVersionsOfAConfidentialDocumentKeepItReadable() throws Exception {
        String id = upload(TestKeys.ADMIN, "budget.txt", "Le budget initial.".getBytes(StandardCharsets.UTF_8), KB, CONFIDENTIAL)
                .statusCode(202).extract().path("document_id");
        int version = 1;
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            for (int round = 0; round < ROUNDS; round++) {
                List<String> words = List.of(word(), word());
                List<Response> answers = concurrently(id, words);
                for (Response answer : answers) {
                    assertEquals(202, answer.statusCode(), "round " + round + ": " + answer.asString());
                }
                List<Integer> versions = answers.stream().map(a -> a.jsonPath().getInt("version")).sorted().toList();
                assertEquals(List.of(version + 1, version + 2), versions, "round " + round + ": one version each, in turn");
                version += 2;
                int latest = version;
                String latestWord = words.get(answers.get(0).jsonPath().getInt("version") == latest ? 0 : 1);
                assertEquals(latest, get(TestKeys.ADMIN, id).extract().jsonPath().getInt("version"));
                assertOpens(chunks, id, latest, latestWord, round);
            }
        }
        // each replaced version's file was removed; only the current one is left
        try (Stream<Path> files = Files.list(BLOBS.resolve(id))) {
            assertEquals(1, files.count(), "files of document " + id);
        }
    }

    /** The chunks of {@code version} arrive, sealed under a data key that opens them, with that request's text. */
    private void assertOpens(TopicProbe chunks, String id, int version, String word, int round) throws Exception {
        ConsumerRecord<String, String> chunk;
        try {
            chunk = chunks.await(r -> id.equals(r.key()) && r.value().contains(EventTypes.DOCUMENT_CHUNKED)
                    && json(r).at("/data/version").asInt() == version, Duration.ofSeconds(30));
        } catch (AssertionError e) {
            throw new AssertionError("round " + round + ": no chunk of version " + version + "; the document: "
                    + get(TestKeys.ADMIN, id).extract().asString(), e);
        }
        JsonNode data = json(chunk).get("data");
        SecretKey dataKey = envelope.unwrap(data.get("wrappedKey").asText());
        String text = Aead.openText(dataKey, data.get("text").asText(), data.get("chunkId").asText());
        assertTrue(text.contains(word), "round " + round + ": version " + version + " holds the text of the request that got it: " + text);
    }

    /** Two PUTs of the document, released at the same instant. */
    private static List<Response> concurrently(String id, List<String> words) {
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Response>> puts = new ArrayList<>();
        for (String word : words) {
            puts.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return given().header("Authorization", TestKeys.bearer(TestKeys.ADMIN))
                        .multiPart("file", "budget.txt", ("Le budget révisé mentionne le mot " + word + ".")
                                .getBytes(StandardCharsets.UTF_8), "application/octet-stream")
                        .multiPart("metadata", CONFIDENTIAL)
                        .put("/v1/documents/" + id);
            }));
        }
        go.countDown();
        return puts.stream().map(CompletableFuture::join).toList();
    }

    private static String word() {
        return "mot" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    private static JsonNode json(ConsumerRecord<String, String> record) {
        try {
            return EventJson.MAPPER.readTree(record.value());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
