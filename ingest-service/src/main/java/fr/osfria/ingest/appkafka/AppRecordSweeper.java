package fr.osfria.ingest.appkafka;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.document.repository.DocumentRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The record memory ({@code app_record}: which record of which application made which document) grew by a row per
 * record, for ever. A record can be read again only while it is in its topic: past
 * {@link IngestConfig#appRecordRetention()} (at least {@link #MIN_RETENTION}) its row is removed, {@value #BATCH} rows
 * per transaction so that no transaction holds many locks or runs long, skipping the rows another transaction holds.
 * While PostgreSQL is out of reach a pass stops where it is (each batch committed is done) and the next one goes on.
 */
@ApplicationScoped
@Startup // a retention below the floor stops the service at boot, before any sweep
public class AppRecordSweeper {

    static final int BATCH = 500;
    /**
     * No retention below this is taken: "9" (a bare number, read as seconds) instead of "9d" made every pass forget
     * every record, and a record read again after a rebalance then made a second document (or brought a deleted one
     * back).
     */
    static final Duration MIN_RETENTION = Duration.ofDays(2);
    /** Between two batches of a pass. */
    static final Duration PAUSE = Duration.ofMillis(100);

    private final DocumentRepository documents;
    private final Duration retention;
    private final Counter removed;
    private final Vertx vertx;

    public AppRecordSweeper(DocumentRepository documents, IngestConfig config, MeterRegistry metrics, Vertx vertx) {
        this.documents = documents;
        this.vertx = vertx;
        this.retention = retention(config.appRecordRetention());
        this.removed = Counter.builder("osfria.ingest.app.records.forgotten")
                .description("Kafka application records past the topics' retention, forgotten by the sweep").register(metrics);
    }

    /** {@code configured}, when it is at least {@link #MIN_RETENTION}. */
    static Duration retention(Duration configured) {
        if (configured.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalStateException("osfria.ingest.app-record-retention is " + configured + "; it must be at"
                    + " least 2 days, above the documents topics' retention plus their segment time (8 days with the"
                    + " platform's topics: the default 9d). A bare number is read as seconds: write the unit (9d).");
        }
        return configured;
    }

    @Scheduled(every = "${osfria.ingest.app-record-sweep-interval}", delayed = "60s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        return sweep().onFailure().invoke(e -> Log.warnf("app-record sweep stopped; the next pass goes on: %s",
                        e.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /**
     * One pass: batches until one comes back short of {@value #BATCH}, each from where the last one ended, with a
     * pause between them (PostgreSQL's other work goes on); how many rows it removed.
     */
    public Uni<Long> sweep() {
        Instant before = Instant.now().minus(retention);
        AtomicLong count = new AtomicLong();
        AtomicReference<Instant> from = new AtomicReference<>(Instant.EPOCH);
        return Uni.createFrom().deferred(() -> Panache.withTransaction(
                        () -> documents.forgetRecordsTakenBefore(before, from.get(), BATCH)))
                .invoke(batch -> {
                    count.addAndGet(batch.count());
                    from.set(batch.last());
                })
                .call(batch -> batch.count() == BATCH ? pause() : Uni.createFrom().voidItem())
                .repeat().whilst(batch -> batch.count() == BATCH)
                .collect().last()
                .map(last -> count.get())
                .onTermination().invoke(() -> {
                    removed.increment(count.get());
                    if (count.get() > 0) {
                        Log.infof("forgot %d Kafka application records taken before %s", count.get(), before);
                    }
                });
    }

    /** A timer on the caller's Vert.x context, on which the next batch's session must run. */
    private Uni<Void> pause() {
        return Uni.createFrom().emitter(done -> vertx.setTimer(PAUSE.toMillis(), id -> done.complete(null)));
    }
}
