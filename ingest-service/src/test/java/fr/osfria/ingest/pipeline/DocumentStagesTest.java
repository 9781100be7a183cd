package fr.osfria.ingest.pipeline;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.awaitStatus;
import static fr.osfria.ingest.IngestTestSupport.indexResult;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.Topics;
import fr.osfria.ingest.parsing.Fixtures;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Where a document's time goes: a document taken from upload to indexed (the test plays an embed-service that takes
 * 800 ms) shows up once in every stage of {@code osfria_document_stage_seconds}, and the slow embedding in the
 * {@code embedded} stage, not elsewhere.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class DocumentStagesTest {

    private static final List<String> STAGES = List.of(DocumentStages.ACCEPTED, DocumentStages.QUEUED, DocumentStages.PARSED,
            DocumentStages.PUBLISHED, DocumentStages.EMBEDDED, DocumentStages.RESULT_RECEIVED, DocumentStages.STATUS_UPDATED,
            DocumentStages.TOTAL);

    @Inject
    MeterRegistry metrics;

    @Test
    void eachStageOfADocumentIsMeasuredAndASlowEmbeddingShowsInItsOwnStage() throws Exception {
        Map<String, double[]> before = snapshot();
        byte[] pdf = Fixtures.pdf(List.of("Procédure de remboursement " + UUID.randomUUID() + ".", "Deuxième page."), null);
        try (TopicProbe chunks = TopicProbe.open(Topics.DOCUMENT_CHUNKS)) {
            String id = upload(TestKeys.FINANCE, "stages.pdf", pdf, KB, null).statusCode(202).extract().path("document_id");
            int total = chunks.await(r -> id.equals(r.key()), Duration.ofSeconds(60)).value().contains("\"totalChunks\":1") ? 1 : 2;
            awaitChunkCountRecorded(id);
            Thread.sleep(800); // embed-service at work
            indexResult(id, 1, total, null);
            awaitStatus(TestKeys.FINANCE, id, "indexed");
        }
        Map<String, double[]> after = snapshot();
        for (String stage : STAGES) {
            assertEquals(1, after.get(stage)[0] - before.get(stage)[0], stage + ": one document, one measure");
        }
        double embedded = after.get(DocumentStages.EMBEDDED)[1] - before.get(DocumentStages.EMBEDDED)[1];
        double totalSeconds = after.get(DocumentStages.TOTAL)[1] - before.get(DocumentStages.TOTAL)[1];
        assertTrue(embedded >= 0.8, "the embedding's 800 ms are in the embedded stage: " + embedded);
        assertTrue(totalSeconds >= embedded, "total " + totalSeconds + " covers embedded " + embedded);
        double parts = 0;
        for (String stage : STAGES.subList(1, STAGES.size() - 1)) {
            parts += after.get(stage)[1] - before.get(stage)[1];
        }
        // the stages from the upload's commit on follow one another: their sum is the total, up to the overlap of a commit
        assertTrue(Math.abs(totalSeconds - parts) < 0.5, "stages " + parts + " s against a total of " + totalSeconds + " s");
    }

    /** The chunk count is recorded right after the last chunk is acknowledged: the embedded stage starts there. */
    private static void awaitChunkCountRecorded(String id) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            Integer count = fr.osfria.ingest.IngestTestSupport.get(TestKeys.FINANCE, id).extract().path("chunks_count");
            return count != null && count > 0;
        });
    }

    /** Count and total seconds of each stage's histogram (zero when not yet registered). */
    private Map<String, double[]> snapshot() {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (String stage : STAGES) {
            Timer timer = metrics.find("osfria.document.stage").tag("stage", stage).timer();
            out.put(stage, timer == null ? new double[2] : new double[]{timer.count(), timer.totalTime(TimeUnit.SECONDS)});
        }
        return out;
    }
}
