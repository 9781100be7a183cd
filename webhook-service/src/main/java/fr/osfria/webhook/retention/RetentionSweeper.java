package fr.osfria.webhook.retention;

import fr.osfria.webhook.WebhookConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Bounds the tables that grow with every event: deletes finished deliveries (and their attempts, by the attempts'
 * cascade) created more than {@code osfria.webhook.delivery-retention} ago, and the ids of events received more than
 * {@code osfria.webhook.received-event-retention} ago, when Kafka can no longer deliver them again. A pending delivery
 * is never deleted, however old. Batches of {@link #BATCH} rows, each its own transaction, lock their rows with SKIP
 * LOCKED: a row a replay or an outcome write holds is left to a later sweep, and none of them ever waits for a sweep
 * longer than one batch (a replay of the very delivery being deleted then answers 404). The batch's ids are deleted
 * as an array ({@code id = ANY (ARRAY (...))}), by the primary key: as {@code id IN (...)}, the planner joined them to
 * a scan of the whole table, once per batch.
 */
@ApplicationScoped
public class RetentionSweeper {

    /** Rows one transaction deletes. */
    static final int BATCH = 2_000;
    /** Batches one sweep runs before it starts again (at once if rows are left). */
    private static final int BATCHES_PER_SWEEP = 50;

    private final Pool db;
    private final WebhookConfig config;
    private final Counter deliveriesRemoved;
    private final Counter eventsRemoved;
    private final SweepLoop loop = new SweepLoop("expired deliveries and received events", this::sweep);

    public RetentionSweeper(Pool db, WebhookConfig config, MeterRegistry metrics) {
        this.db = db;
        this.config = config;
        this.deliveriesRemoved = metrics.counter("osfria.webhook.rows.removed", "table", "delivery", "reason", "retention");
        this.eventsRemoved = metrics.counter("osfria.webhook.rows.removed", "table", "received_event", "reason", "retention");
    }

    @Scheduled(every = "10s", delayed = "20s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        loop.soon();
    }

    /** Sweeps now, or again right after the sweep under way. */
    public void soon() {
        loop.soon();
    }

    /** One sweep: true if expired rows may be left. */
    private Uni<Boolean> sweep() {
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        return deliveries(now.minus(config.deliveryRetention()), BATCHES_PER_SWEEP)
                .chain(left -> receivedEvents(now.minus(config.receivedEventRetention()), left))
                .map(left -> left == 0);
    }

    /**
     * Finished deliveries created before {@code before}, subscription by subscription in id order, each probing the
     * index its listing reads ({@code subscription_id, created_at}): the outcome writes pay no index entry for the
     * retention. A deleted subscription's deliveries are {@code SubscriptionSweeper}'s.
     */
    private Uni<Integer> deliveries(OffsetDateTime before, int batches) {
        AtomicReference<String> from = new AtomicReference<>("");
        return SweepLoop.repeat(() -> db.preparedQuery("""
                        DELETE FROM delivery WHERE id = ANY (ARRAY (
                          SELECT c.id FROM (SELECT id FROM subscription WHERE id >= $3 ORDER BY id) s
                            CROSS JOIN LATERAL (
                              SELECT id FROM delivery WHERE subscription_id = s.id AND created_at < $1
                                AND status IN ('DELIVERED', 'FAILED', 'EXHAUSTED', 'SKIPPED')
                              LIMIT $2 FOR UPDATE SKIP LOCKED) c
                          LIMIT $2))
                        RETURNING subscription_id""")
                .execute(Tuple.of(before, BATCH, from.get()))
                .map(rows -> {
                    // a full batch may have stopped inside its last subscription: the next one starts there
                    for (Row r : rows) {
                        if (r.getString("subscription_id").compareTo(from.get()) > 0) {
                            from.set(r.getString("subscription_id"));
                        }
                    }
                    deliveriesRemoved.increment(rows.rowCount());
                    return rows.rowCount();
                }), BATCH, batches);
    }

    private Uni<Integer> receivedEvents(OffsetDateTime before, int batches) {
        return SweepLoop.repeat(() -> db.preparedQuery("""
                        DELETE FROM received_event WHERE event_id = ANY (ARRAY (
                          SELECT event_id FROM received_event WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))""")
                .execute(Tuple.of(before, BATCH))
                .map(rows -> {
                    eventsRemoved.increment(rows.rowCount());
                    return rows.rowCount();
                }), BATCH, batches);
    }
}
