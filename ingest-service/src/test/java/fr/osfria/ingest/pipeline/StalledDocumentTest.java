package fr.osfria.ingest.pipeline;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.awaitStatus;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** embed-service never answers: the document is processed again, then marked failed, never left processing. */
@QuarkusTest
@TestProfile(StalledDocumentTest.QuickStall.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class StalledDocumentTest {

    public static class QuickStall implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("osfria.ingest.stall.timeout", "2s",
                    "osfria.ingest.stall.check-interval", "500ms",
                    "osfria.ingest.stall.max-attempts", "2");
        }
    }

    @Test
    void aStalledDocumentIsRetriedThenFailed() {
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            String id = upload(TestKeys.FINANCE, "attente.txt", ("En attente " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                    KB, "{\"department\":\"finance\"}").statusCode(202).extract().path("document_id");
            awaitStatus(TestKeys.FINANCE, id, "failed");
            get(TestKeys.FINANCE, id).body("error", equalTo("processing stalled: no result after 2 attempts"));
            long sent = chunks.drain(Duration.ofMillis(500)).stream().filter(r -> id.equals(r.key())).count();
            // once per attempt at most; at least once. Exactly twice only when the first attempt published its chunk
            // within the 2 s stall time-out: on a loaded machine the retry can start first, and find the chunk
            // published by then (a fresh CI run at load 12 saw 1)
            assertTrue(sent >= 1 && sent <= 2, "the one chunk was sent once per attempt at most, and at least once: " + sent);
        }
    }
}
