package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.chunkedDocument;
import static fr.osfria.ingest.IngestTestSupport.indexResult;
import static fr.osfria.ingest.IngestTestSupport.waitFor;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.IngestTestSupport;
import fr.osfria.ingest.IngestTestSupport.Answer;
import fr.osfria.ingest.OperatedInstall;
import fr.osfria.ingest.document.wait.DocumentWaits;
import fr.osfria.ingest.document.wait.SettledListener;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL going away under requests waiting for their document ({@code GET /v1/documents/{id}?wait=}): each answers
 * at its time-out what a read answers then, nothing hangs; once the database is back the listening connection is
 * opened again and a change wakes its waits at once.
 */
@QuarkusTest
@TestProfile(OperatedInstall.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
class WaitDuringPostgresOutageTest {

    @Inject
    DocumentWaits waits;

    @Inject
    SettledListener listener;

    @Inject
    AgroalDataSource database;

    @Inject
    MeterRegistry metrics;

    @Test
    void aWaitDuringAnOutageAnswersAtItsTimeOutAndWaitsAreWokenAgainOnceTheDatabaseIsBack() throws Exception {
        String id = chunkedDocument();
        await().atMost(Duration.ofSeconds(20)).until(listener::listening);

        Instant asked = Instant.now();
        CompletableFuture<Answer> during = waitFor(TestKeys.FINANCE, id, 4);
        // past its read of the document (a read the outage cut would answer 503 at once, not at the time-out)
        await().atMost(Duration.ofSeconds(20)).until(() -> waits.asleep() == 1);
        PostgresOutageUploadTest.cutDatabase();
        Answer answer;
        try {
            answer = during.get(30, TimeUnit.SECONDS);
        } finally {
            PostgresOutageUploadTest.restoreDatabase();
        }
        // what a read answers while the database is out of reach, at the time-out and not much later
        assertEquals(503, answer.status(), answer.body().encode());
        assertEquals("database_unavailable", answer.body().getJsonObject("error").getString("code"));
        Duration took = Duration.between(asked, answer.at());
        assertTrue(took.compareTo(Duration.ofSeconds(3)) > 0 && took.compareTo(Duration.ofSeconds(8)) < 0,
                "answered after " + took.toMillis() + " ms");
        assertEquals(0, waits.waiting());

        await().atMost(Duration.ofSeconds(20)).until(listener::listening);
        CompletableFuture<Answer> after = waitFor(TestKeys.FINANCE, id, 20);
        await().atMost(Duration.ofSeconds(20)).until(() -> waits.waiting() == 1);
        double notified = IngestTestSupport.wokenByNotification(metrics);
        indexResult(id, 1, 1, null);
        Answer indexed = after.get(30, TimeUnit.SECONDS);
        assertEquals("indexed", indexed.body().getString("status"));
        assertTrue(IngestTestSupport.wokenByNotification(metrics) > notified, "woken by the regular check, not the notification");
        Duration afterTheChange = Duration.between(IngestTestSupport.changedAt(database, id), indexed.at());
        assertTrue(afterTheChange.compareTo(Duration.ofSeconds(5)) < 0, afterTheChange.toMillis() + " ms");
    }
}
