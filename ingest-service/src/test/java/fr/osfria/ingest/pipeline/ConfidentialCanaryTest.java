package fr.osfria.ingest.pipeline;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.awaitStatus;
import static fr.osfria.ingest.IngestTestSupport.indexResult;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.ingest.parsing.Fixtures;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.testing.EmbeddedPostgres;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import javax.crypto.SecretKey;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * A confidential document carries a unique canary phrase. Afterwards the phrase is nowhere in clear on disk: not
 * under the blob directory, the PostgreSQL data directory or the Kafka log directory; yet the platform's own
 * key opens the chunks, so the text is there, only sealed.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class ConfidentialCanaryTest {

    @ConfigProperty(name = "osfria.encryption.kek")
    String kek;

    @Inject
    Envelope envelope;

    @Test
    void theCanaryIsNowhereInClear() throws Exception {
        String canary = "CANARY" + UUID.randomUUID().toString().replace("-", "");
        byte[] pdf = Fixtures.pdf(List.of("Plan social confidentiel.", "Mot de passe du coffre : " + canary + " fin."), null);
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            String id = upload(TestKeys.FINANCE, "plan.pdf", pdf, KB, "{\"department\":\"finance\",\"confidential\":true}")
                    .statusCode(202).extract().path("document_id");
            JsonNode chunk = EventJson.MAPPER.readTree(chunks.await(r -> id.equals(r.key()), Duration.ofSeconds(60)).value());
            int total = chunk.at("/data/totalChunks").asInt();
            List<JsonNode> all = new ArrayList<>(List.of(chunk));
            chunks.drain(Duration.ofMillis(500)).stream().filter(r -> id.equals(r.key())).skip(1).limit(total - 1L)
                    .forEach(r -> all.add(read(r.value())));

            StringBuilder opened = new StringBuilder();
            for (JsonNode c : all) {
                assertTrue(c.at("/data/encrypted").asBoolean());
                SecretKey dataKey = envelope.unwrap(c.at("/data/wrappedKey").asText());
                String chunkId = c.at("/data/chunkId").asText();
                opened.append(Aead.openText(dataKey, c.at("/data/text").asText(), chunkId));
            }
            assertTrue(opened.toString().contains(canary), "the sealed chunks hold the document's text");

            indexResult(id, 1, total, null);
            awaitStatus(TestKeys.FINANCE, id, "indexed");
        }
        byte[] needle = canary.getBytes(StandardCharsets.UTF_8);
        for (Path dir : List.of(Path.of("target/test-data/blobs"), EmbeddedPostgres.dataDirectory(), InJvmKafka.directory())) {
            assertFalse(containsAnywhere(dir, needle), "the canary is in clear under " + dir);
        }
        assertTrue(envelope.available() && kek != null);
    }

    /** Proves the scan can see: the canary of a non-confidential document is found in the same places. */
    @Test
    void theScanFindsTheCanaryOfAnOrdinaryDocument() throws Exception {
        String canary = "PLAIN" + UUID.randomUUID().toString().replace("-", "");
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            String id = upload(TestKeys.FINANCE, "note.txt", ("Note ordinaire " + canary + ".").getBytes(StandardCharsets.UTF_8),
                    KB, "{\"department\":\"finance\"}").statusCode(202).extract().path("document_id");
            chunks.await(r -> id.equals(r.key()), Duration.ofSeconds(60));
        }
        byte[] needle = canary.getBytes(StandardCharsets.UTF_8);
        assertTrue(containsAnywhere(Path.of("target/test-data/blobs"), needle));
        assertTrue(containsAnywhere(InJvmKafka.directory(), needle));
    }

    private static JsonNode read(String json) {
        try {
            return EventJson.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static boolean containsAnywhere(Path dir, byte[] needle) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(f);
                } catch (IOException e) {
                    continue; // a file that vanished while walking (a log segment rolled)
                }
                if (indexOf(bytes, needle) >= 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
