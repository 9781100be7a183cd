package fr.osfria.ingest.appkafka;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.document.repository.DocumentRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The record memory ({@code app_record}: which record of which application made which document) grew by a row per
 * record, for ever. A record can be read again only while it is in its topic: past
 * {@link IngestConfig#appRecordRetention()} its row is removed, {@value #BATCH} rows per transaction so that no
 * transaction holds many locks or runs long, skipping the rows another transaction holds. While PostgreSQL is out of
 * reach a pass stops where it is (each batch committed is done) and the next one goes on.
 */
@ApplicationScoped
public class AppRecordSweeper {

    static final int BATCH = 500;

    private final DocumentRepository documents;
    private final Duration retention;
    private final Counter removed;

    public AppRecordSweeper(DocumentRepository documents, IngestConfig config, MeterRegistry metrics) {
        this.documents = documents;
        this.retention = config.appRecordRetention();
        this.removed = Counter.builder("osfria.ingest.app.records.forgotten")
                .description("Kafka application records past the topics' retention, forgotten by the sweep").register(metrics);
    }

    @Scheduled(every = "${osfria.ingest.app-record-sweep-interval}", delayed = "60s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        return sweep().onFailure().invoke(e -> Log.warnf("app-record sweep stopped; the next pass goes on: %s",
                        e.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /** One pass: batches until one comes back short of {@value #BATCH}; how many rows it removed. */
    public Uni<Long> sweep() {
        Instant before = Instant.now().minus(retention);
        AtomicLong count = new AtomicLong();
        return Uni.createFrom().deferred(() -> Panache.withTransaction(() -> documents.forgetRecordsTakenBefore(before, BATCH)))
                .invoke(n -> count.addAndGet(n))
                .repeat().whilst(n -> n == BATCH)
                .collect().last()
                .map(last -> count.get())
                .onTermination().invoke(() -> {
                    removed.increment(count.get());
                    if (count.get() > 0) {
                        Log.infof("forgot %d Kafka application records taken before %s", count.get(), before);
                    }
                });
    }
}
