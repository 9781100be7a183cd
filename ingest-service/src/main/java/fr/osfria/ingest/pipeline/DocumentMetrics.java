package fr.osfria.ingest.pipeline;

import fr.osfria.ingest.document.DocumentStatus;
import fr.osfria.ingest.document.repository.DocumentRepository;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Documents by status and the age of the oldest still processing, read from the database every few seconds, for the
 * dashboards and the "documents stuck in processing" alert.
 */
@ApplicationScoped
public class DocumentMetrics {

    /**
     * The {@code status} label of documents in a status this version does not know (a newer replica's, during a
     * rolling upgrade): counted rather than left out, so the statuses still add up to every document, and a replica
     * showing some is one older than the data.
     */
    static final String OTHER = "other";

    private final DocumentRepository documents;
    private final Map<String, AtomicLong> byStatus = new ConcurrentHashMap<>();
    private final AtomicLong oldestProcessingSeconds = new AtomicLong();
    private final AtomicLong chunksPending = new AtomicLong();
    /** The unknown statuses already told in the log: once each, not at every refresh. */
    private final Set<String> unknownStatusesLogged = ConcurrentHashMap.newKeySet();

    public DocumentMetrics(DocumentRepository documents, MeterRegistry metrics) {
        this.documents = documents;
        List<String> labels = new ArrayList<>(Arrays.stream(DocumentStatus.values()).map(DocumentStatus::word).toList());
        labels.add(OTHER);
        for (String status : labels) {
            AtomicLong count = new AtomicLong();
            byStatus.put(status, count);
            Gauge.builder("osfria.ingest.documents", count, AtomicLong::get).tag("status", status)
                    .description("Documents by status").register(metrics);
        }
        Gauge.builder("osfria.ingest.oldest.processing.seconds", oldestProcessingSeconds, AtomicLong::get)
                .description("Age of the oldest document still processing (0 when none is)").register(metrics);
        Gauge.builder("osfria.ingest.chunks.pending", chunksPending, AtomicLong::get)
                .description("Chunks sent to the index and not yet indexed, over the documents still processing").register(metrics);
    }

    /** Every {@code metrics-refresh-interval} ({@link fr.osfria.ingest.IngestConfig}): one aggregate query over the table. */
    @Scheduled(every = "${osfria.ingest.metrics-refresh-interval}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        return Panache.withSession(documents::tallyByStatus)
                .invoke(tallies -> {
                    Map<String, Long> counts = new HashMap<>();
                    long oldestProcessing = 0;
                    long pending = 0;
                    Instant now = Instant.now();
                    for (DocumentRepository.StatusTally t : tallies) {
                        Optional<DocumentStatus> status = t.known();
                        if (status.isEmpty()) {
                            counts.merge(OTHER, t.documents(), Long::sum);
                            logUnknownOnce(t);
                            continue;
                        }
                        counts.put(status.get().word(), t.documents());
                        if (status.get() == DocumentStatus.PROCESSING) {
                            oldestProcessing = Math.max(0, Duration.between(t.oldestChange(), now).toSeconds());
                            pending = t.chunksPending();
                        }
                    }
                    byStatus.forEach((status, count) -> count.set(counts.getOrDefault(status, 0L)));
                    oldestProcessingSeconds.set(oldestProcessing);
                    chunksPending.set(pending);
                })
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    private void logUnknownOnce(DocumentRepository.StatusTally t) {
        if (unknownStatusesLogged.add(t.status())) {
            Log.warnf("%d document(s) have status %s, which this version does not know (written by a newer version?):"
                    + " counted as status \"%s\" in osfria_ingest_documents", t.documents(), t.status(), OTHER);
        }
    }
}
