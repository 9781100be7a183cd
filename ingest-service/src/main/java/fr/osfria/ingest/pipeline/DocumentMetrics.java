package fr.osfria.ingest.pipeline;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
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

    private final Pool db;
    private final Map<String, AtomicLong> byStatus = new ConcurrentHashMap<>();
    private final AtomicLong oldestProcessingSeconds = new AtomicLong();
    private final AtomicLong chunksPending = new AtomicLong();

    public DocumentMetrics(Pool db, MeterRegistry metrics) {
        this.db = db;
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
        return db.query("""
                        SELECT status, count(*) AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(updated_at)), 0) AS age,
                               COALESCE(sum(GREATEST(chunks_count - chunks_indexed, 0)), 0) AS pending
                        FROM document GROUP BY status""")
                .execute()
                .invoke(rows -> {
                    byStatus.values().forEach(c -> c.set(0));
                    oldestProcessingSeconds.set(0);
                    chunksPending.set(0);
                    rows.forEach(r -> {
                        AtomicLong count = byStatus.get(r.getString("status"));
                        if (count != null) {
                            count.set(r.getLong("n"));
                        }
                        if ("PROCESSING".equals(r.getString("status"))) {
                            oldestProcessingSeconds.set((long) r.getDouble("age").doubleValue());
                            chunksPending.set(r.getLong("pending"));
                        }
                    });
                })
                .onFailure().recoverWithNull().replaceWithVoid();
    }
}
