package fr.osfria.ingest.pipeline;

import fr.osfria.ingest.document.DocumentStatus;
import fr.osfria.ingest.document.repository.DocumentRepository;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Documents by status and the age of the oldest still processing, read from the database every few seconds, for the
 * dashboards and the "documents stuck in processing" alert.
 */
@ApplicationScoped
public class DocumentMetrics {

    private static final String[] STATUSES = {"PROCESSING", "INDEXED", "FAILED"};

    private final DocumentRepository documents;
    private final Map<String, AtomicLong> byStatus = new ConcurrentHashMap<>();
    private final AtomicLong oldestProcessingSeconds = new AtomicLong();
    private final AtomicLong chunksPending = new AtomicLong();

    public DocumentMetrics(DocumentRepository documents, MeterRegistry metrics) {
        this.documents = documents;
        for (String status : STATUSES) {
            AtomicLong count = new AtomicLong();
            byStatus.put(status, count);
            Gauge.builder("osfria.ingest.documents", count, AtomicLong::get).tag("status", status.toLowerCase())
                    .description("Documents by status").register(metrics);
        }
        Gauge.builder("osfria.ingest.oldest.processing.seconds", oldestProcessingSeconds, AtomicLong::get)
                .description("Age of the oldest document still processing (0 when none is)").register(metrics);
        Gauge.builder("osfria.ingest.chunks.pending", chunksPending, AtomicLong::get)
                .description("Chunks sent to the index and not yet indexed, over the documents still processing").register(metrics);
    }

    @Scheduled(every = "10s", delayed = "5s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        return Panache.withSession(documents::tallyByStatus)
                .invoke(tallies -> {
                    byStatus.values().forEach(c -> c.set(0));
                    oldestProcessingSeconds.set(0);
                    chunksPending.set(0);
                    Instant now = Instant.now();
                    for (DocumentRepository.StatusTally t : tallies) {
                        AtomicLong count = byStatus.get(t.status().name());
                        if (count != null) {
                            count.set(t.documents());
                        }
                        if (t.status() == DocumentStatus.PROCESSING) {
                            oldestProcessingSeconds.set(Math.max(0, Duration.between(t.oldestChange(), now).toSeconds()));
                            chunksPending.set(t.chunksPending());
                        }
                    }
                })
                .onFailure().recoverWithNull().replaceWithVoid();
    }
}
