package fr.osfria.webhook.delivery;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.atomic.AtomicLong;

/** Pending deliveries and the age of the oldest, read from the database every 30 s for the gauges. */
@ApplicationScoped
public class BacklogMetrics {

    private final Pool db;
    private final AtomicLong backlog = new AtomicLong();
    private final AtomicLong oldestSeconds = new AtomicLong();

    public BacklogMetrics(Pool db, MeterRegistry metrics) {
        this.db = db;
        metrics.gauge("osfria.webhook.backlog", backlog);
        metrics.gauge("osfria.webhook.oldest.pending.seconds", oldestSeconds);
    }

    /**
     * Every 30 s: the alert on it looks at 10,000 deliveries or an hour's age, and each pass counts every pending
     * delivery (250 ms of PostgreSQL under a backlog of 20,000, on every replica).
     */
    @Scheduled(every = "30s", delayed = "5s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        // a deleted subscription's deliveries, until they are swept, are no backlog: they will never be sent
        return db.query("""
                        SELECT count(*) AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(d.created_at)), 0) AS age
                        FROM delivery d JOIN subscription s ON s.id = d.subscription_id WHERE d.status = 'PENDING'""")
                .execute()
                .invoke(rows -> rows.forEach(r -> {
                    backlog.set(r.getLong("n"));
                    oldestSeconds.set((long) r.getDouble("age").doubleValue());
                }))
                .onFailure().recoverWithNull().replaceWithVoid();
    }
}
