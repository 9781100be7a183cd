package fr.osfria.ingest.pipeline;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.ingest.IngestConfig;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * embed-service never answers: the document is processed again, then marked failed, never left processing. The
 * service runs with its stall time-out and attempts as configured; rather than wait that time-out, the test ages each
 * attempt once its chunk is out, as a document left without a result that long looks.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class StalledDocumentTest {

    @Inject
    AgroalDataSource database;

    @Inject
    IngestConfig config;

    @Test
    void aStalledDocumentIsRetriedThenFailed() {
        int attempts = config.stall().maxAttempts();
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            String id = upload(TestKeys.FINANCE, "attente.txt", ("En attente " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                    KB, "{\"department\":\"finance\"}").statusCode(202).extract().path("document_id");
            // the sweeper looks every check-interval (500 ms in tests) for documents processing longer than the time-out
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
                ageOnceChunked(id);
                return "failed".equals(get(TestKeys.FINANCE, id).extract().path("status"));
            });
            get(TestKeys.FINANCE, id).body("error", equalTo("processing stalled: no result after " + attempts + " attempts"));
            long sent = chunks.drain(Duration.ofMillis(500)).stream().filter(r -> id.equals(r.key())).count();
            assertTrue(sent >= 1 && sent <= attempts, "the one chunk was sent once per attempt at most, and at least once: " + sent);
        }
    }

    /** The current attempt, once its chunk is published, as if it had waited the whole stall time-out for a result. */
    private void ageOnceChunked(String id) throws SQLException {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement("UPDATE document"
                + " SET updated_at = now() - ?::interval WHERE id = ? AND status = 'PROCESSING' AND chunked_at IS NOT NULL")) {
            s.setString(1, config.stall().timeout().plusMinutes(1).toSeconds() + " seconds");
            s.setString(2, id);
            s.executeUpdate();
        }
    }
}
