package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.parsing.Fixtures;
import fr.osfria.security.audit.AuditLog;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import jakarta.inject.Inject;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.Metric;
import org.junit.jupiter.api.Test;

/**
 * The fault: every audited call waited for its audit record to be acknowledged, and the producer held the record
 * back for its linger (Kafka 4: 5 ms) before even sending it; the upload's event and the document's chunks likewise.
 * Audited calls are made here (an upload, reads), then each request-path producer's own measure of how long its
 * records waited in the accumulator before being sent must be under the linger they used to pay.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class RequestPathSendsLingerTest {

    @Inject
    KafkaClientService kafka;

    @Test
    void auditedCallsAndTheDocumentPathSendAtOnce() throws Exception {
        // each producer's first records wait for its producer id (idempotent sends, acks=all): the averages are read
        // over the last few seconds only (metrics.sample.window.ms in the test profile), after rounds of calls; a
        // linger never lets them drop below its 5 ms, however many rounds
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(90)).pollDelay(java.time.Duration.ZERO)
                .pollInterval(java.time.Duration.ofMillis(100)).untilAsserted(() -> {
            byte[] pdf = Fixtures.pdf(List.of("Linger " + UUID.randomUUID() + "."), null);
            String id = upload(TestKeys.FINANCE, "linger.pdf", pdf, KB, null).statusCode(202).extract().path("document_id");
            for (int i = 0; i < 30; i++) {
                get(TestKeys.FINANCE, id).statusCode(200);
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> {
                Integer count = get(TestKeys.FINANCE, id).extract().path("chunks_count");
                return count != null && count > 0;
            });
            for (String channel : List.of(AuditLog.CHANNEL, "outbox", "chunks")) {
                double waited = queueTimeMs(channel);
                // a linger shows as at least its 5 ms on average; sending at once is well under a millisecond when idle
                assertTrue(waited >= 0 && waited < 2.5, channel + ": records waited " + waited + " ms on average before being sent");
            }
        });
        for (String channel : List.of(AuditLog.CHANNEL, "outbox", "chunks")) {
            // and "the broker has it" means every in-sync replica (the connector's own default is acks=1)
            assertEquals("all", String.valueOf(kafka.getProducer(channel).configuration().get("acks")), channel);
        }
    }

    private double queueTimeMs(String channel) {
        for (var e : kafka.getProducer(channel).unwrap().metrics().entrySet()) {
            if (e.getKey().name().equals("record-queue-time-avg") && e.getKey().group().equals("producer-metrics")) {
                Object v = ((Metric) e.getValue()).metricValue();
                return v instanceof Double d && !d.isNaN() ? d : -1;
            }
        }
        return -1;
    }
}
