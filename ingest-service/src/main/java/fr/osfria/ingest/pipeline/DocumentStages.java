package fr.osfria.ingest.pipeline;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a document's time goes from upload to {@code indexed}: one histogram per stage,
 * {@code osfria_document_stage_seconds{stage=...}}, each stage the time since the previous one ended:
 * <ul>
 * <li>{@code accepted}: the upload request, from its first byte read to its row committed (file written, hashes);</li>
 * <li>{@code queued}: from that commit to the upload's parsing starting (outbox relay, Kafka hop, consumer);</li>
 * <li>{@code parsed}: parsing and chunking;</li>
 * <li>{@code published}: the chunks on the topic (every one acknowledged) and the chunk count recorded;</li>
 * <li>{@code embedded}: embed-service's part, read from its verdict's event time: chunks consumed, embedded,
 * committed to the index (searchable from then on), verdict sent;</li>
 * <li>{@code result_received}: the verdict's hop back to this service;</li>
 * <li>{@code status_updated}: the status {@code indexed} committed (readable by clients);</li>
 * <li>{@code total}: from the upload's commit to that status.</li>
 * </ul>
 * Measured for documents that are indexed at their first attempt (a stalled, restarted one would distort them).
 * {@code embedded} and {@code result_received} compare this service's clock with embed-service's: exact on one
 * machine, off by the clock skew between nodes otherwise (a negative difference counts as 0).
 */
@ApplicationScoped
public class DocumentStages {

    public static final String ACCEPTED = "accepted";
    public static final String QUEUED = "queued";
    public static final String PARSED = "parsed";
    public static final String PUBLISHED = "published";
    public static final String EMBEDDED = "embedded";
    public static final String RESULT_RECEIVED = "result_received";
    public static final String STATUS_UPDATED = "status_updated";
    public static final String TOTAL = "total";

    private final MeterRegistry metrics;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    public DocumentStages(MeterRegistry metrics) {
        this.metrics = metrics;
    }

    /** Records a stage that lasted from {@code start} to {@code end} (0 if the clocks say it ended before it began). */
    public void record(String stage, Instant start, Instant end) {
        if (start != null && end != null) {
            record(stage, Duration.between(start, end));
        }
    }

    public void record(String stage, Duration duration) {
        timers.computeIfAbsent(stage, s -> Timer.builder("osfria.document.stage").tag("stage", s)
                        .description("Time of each stage of a document from upload to indexed")
                        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                        .maximumExpectedValue(Duration.ofMinutes(10)).register(metrics))
                .record(duration.isNegative() ? Duration.ZERO : duration);
    }
}
