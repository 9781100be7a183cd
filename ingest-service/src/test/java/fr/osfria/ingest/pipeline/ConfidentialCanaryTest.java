package fr.osfria.ingest.pipeline;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.awaitStatus;
import static fr.osfria.ingest.IngestTestSupport.indexResult;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.ingest.parsing.Fixtures;
import fr.osfria.security.crypto.Aead;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.crypto.SealedFields;
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
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.crypto.SecretKey;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * A confidential document carries unique canaries in its text, its file name and a metadata value. Afterwards
 * none is anywhere in clear on disk: not under the blob directory, the PostgreSQL data directory or the Kafka log
 * directory (chunks, upload and public events, audit); yet the platform's own key opens the chunks and the
 * metadata, and the document's reader sees its name and metadata in clear through the API.
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
        String nameCanary = "CANARYNAME" + UUID.randomUUID().toString().replace("-", "");
        String metaCanary = "CANARYMETA" + UUID.randomUUID().toString().replace("-", "");
        byte[] pdf = Fixtures.pdf(List.of("Plan social confidentiel.", "Mot de passe du coffre : " + canary + " fin."), null);
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS); TopicProbe events = TopicProbe.open(Topics.PUBLIC_EVENTS)) {
            String id = upload(TestKeys.FINANCE, nameCanary + ".pdf", pdf, KB,
                    "{\"department\":\"finance\",\"confidential\":true,\"project\":\"" + metaCanary + "\"}")
                    .statusCode(202).body("filename", equalTo(nameCanary + ".pdf"))
                    .body("metadata.project", equalTo(metaCanary)).extract().path("document_id");
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
                Map<String, Object> metadata = EventJson.MAPPER.convertValue(c.at("/data/metadata"), Map.class);
                assertEquals("finance", metadata.get("department"), "department stays clear: rights filter on it");
                assertEquals(metaCanary, SealedFields.openMetadata(dataKey, id, metadata).get("project"));
            }
            assertTrue(opened.toString().contains(canary), "the sealed chunks hold the document's text");

            indexResult(id, 1, total, null);
            awaitStatus(TestKeys.FINANCE, id, "indexed");
            // its reader still sees the clear name and metadata
            get(TestKeys.FINANCE, id).body("filename", equalTo(nameCanary + ".pdf")).body("metadata.project", equalTo(metaCanary));
            given().header("Authorization", TestKeys.bearer(TestKeys.FINANCE)).queryParam("collection", KB).queryParam("limit", 500)
                    .get("/v1/documents").then().statusCode(200)
                    .body("data.find { it.document_id == '" + id + "' }.filename", equalTo(nameCanary + ".pdf"));
            JsonNode indexed = read(events.await(r -> id.equals(r.key()) && r.value().contains("document.indexed"),
                    Duration.ofSeconds(20)).value());
            assertTrue(indexed.at("/data/filename").isMissingNode() || indexed.at("/data/filename").isNull(),
                    "document.indexed of a confidential document names no file");
        }
        List<String> needles = List.of(canary, nameCanary, metaCanary);
        for (Path dir : List.of(Path.of("target/test-data/blobs"), EmbeddedPostgres.dataDirectory(), InJvmKafka.directory())) {
            Set<String> inClear = foundUnder(dir, needles);
            assertTrue(inClear.isEmpty(), inClear + " in clear under " + dir);
        }
        assertTrue(envelope.available() && kek != null);
    }

    /** Proves the scan can see: the canaries of a non-confidential document are found in the same places. */
    @Test
    void theScanFindsTheCanaryOfAnOrdinaryDocument() throws Exception {
        String canary = "PLAIN" + UUID.randomUUID().toString().replace("-", "");
        String nameCanary = "PLAINNAME" + UUID.randomUUID().toString().replace("-", "");
        String metaCanary = "PLAINMETA" + UUID.randomUUID().toString().replace("-", "");
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            String id = upload(TestKeys.FINANCE, nameCanary + ".txt", ("Note ordinaire " + canary + ".").getBytes(StandardCharsets.UTF_8),
                    KB, "{\"department\":\"finance\",\"project\":\"" + metaCanary + "\"}").statusCode(202).extract().path("document_id");
            chunks.await(r -> id.equals(r.key()), Duration.ofSeconds(60));
        }
        assertEquals(Set.of(canary), foundUnder(Path.of("target/test-data/blobs"), List.of(canary)));
        List<String> needles = List.of(canary, nameCanary, metaCanary);
        assertEquals(Set.copyOf(needles), foundUnder(InJvmKafka.directory(), needles), "found in Kafka");
        List<String> stored = List.of(nameCanary, metaCanary);
        await().atMost(Duration.ofSeconds(20)).until(() -> foundUnder(EmbeddedPostgres.dataDirectory(), stored).size() == stored.size());
    }

    private static final int BLOCK = 4096;
    private static final byte[] ZEROS = new byte[BLOCK];

    private static JsonNode read(String json) {
        try {
            return EventJson.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Which of the (ASCII) needles some file under {@code dir} holds, reading each file once for all of them: the
     * broker's directory alone is gigabytes of preallocated index files.
     */
    private static Set<String> foundUnder(Path dir, List<String> needles) throws IOException {
        Set<String> found = new HashSet<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                if (!attributes.isRegularFile()) {
                    return FileVisitResult.CONTINUE;
                }
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(file);
                } catch (IOException e) {
                    return FileVisitResult.CONTINUE; // vanished since it was listed
                }
                // A needle has no zero byte, so it lies within a run of blocks that are not all zeros: the rest (the
                // broker's preallocated index files, mostly) is skipped.
                int start = -1;
                for (int block = 0; ; block += BLOCK) {
                    int end = Math.min(block + BLOCK, bytes.length);
                    boolean zeros = block >= bytes.length || Arrays.equals(bytes, block, end, ZEROS, 0, end - block);
                    if (!zeros && start < 0) {
                        start = block;
                    } else if (zeros && start >= 0) {
                        // one char per byte: an ASCII needle is in the string exactly where its bytes are in the file
                        String text = new String(bytes, start, Math.min(block, bytes.length) - start, StandardCharsets.ISO_8859_1);
                        needles.stream().filter(text::contains).forEach(found::add);
                        start = -1;
                    }
                    if (block >= bytes.length) {
                        break;
                    }
                }
                return found.size() == needles.size() ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                // a file that vanished while walking (a checkpoint replaced, a log segment rolled): Files.walk threw
                return FileVisitResult.CONTINUE;
            }
        });
        return found;
    }
}
