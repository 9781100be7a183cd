package fr.osfria.webhook.subscription;

import fr.osfria.webhook.retention.SweepLoop;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes the deliveries of deleted subscriptions (their tombstones, {@code deleted_subscription}), a batch per
 * transaction, so that no lock is held for long: the intake, the claims and the outcome writes of everyone else go on
 * between batches. Rows an outcome write holds at that moment are skipped and taken by a later batch; the tombstone
 * goes once nothing of the subscription is left. Every replica may sweep: batches skip each other's rows. Finished
 * deliveries of live subscriptions past their retention are {@code RetentionSweeper}'s.
 */
@ApplicationScoped
public class SubscriptionSweeper {

    /** Deliveries one transaction deletes (with their attempts, by the attempts' cascade). */
    static final int BATCH = 2_000;
    /** Batches one sweep runs before it lets the next tick go on (it runs again at once if there is more). */
    private static final int BATCHES_PER_SWEEP = 50;

    private final Pool db;
    private final Counter removed;
    private final SweepLoop loop = new SweepLoop("deleted subscriptions' deliveries", this::sweep);

    public SubscriptionSweeper(Pool db, MeterRegistry metrics) {
        this.db = db;
        this.removed = metrics.counter("osfria.webhook.rows.removed", "table", "delivery", "reason", "subscription_deleted");
    }

    @Scheduled(every = "10s", delayed = "3s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        loop.soon();
    }

    /** Sweeps now, or again right after the sweep under way. */
    public void soon() {
        loop.soon();
    }

    /** One sweep: true if deliveries of deleted subscriptions may be left. */
    private Uni<Boolean> sweep() {
        return db.preparedQuery("SELECT id FROM deleted_subscription ORDER BY deleted_at LIMIT 20").execute()
                .chain(rows -> {
                    List<String> ids = new ArrayList<>();
                    for (Row r : rows) {
                        ids.add(r.getString("id"));
                    }
                    return batches(ids, 0, BATCHES_PER_SWEEP);
                });
    }

    private Uni<Boolean> batches(List<String> ids, int i, int left) {
        if (i >= ids.size()) {
            return Uni.createFrom().item(false);
        }
        if (left == 0) {
            return Uni.createFrom().item(true);
        }
        String id = ids.get(i);
        // by the primary key, as an array: as id IN (...), the planner could join the batch to a scan of the table
        return SweepLoop.batch(db, """
                        DELETE FROM delivery WHERE id = ANY (ARRAY (
                          SELECT id FROM delivery WHERE subscription_id = $1 LIMIT $2 FOR UPDATE SKIP LOCKED))""",
                        Tuple.of(id, BATCH))
                .invoke(deleted -> removed.increment(deleted.rowCount()))
                .chain(deleted -> deleted.rowCount() > 0 ? batches(ids, i, left - 1)
                        // nothing free was left: the tombstone goes if nothing at all is (rows a writer holds:
                        // the next tick takes them)
                        : SweepLoop.batch(db, """
                                        DELETE FROM deleted_subscription WHERE id = $1
                                          AND NOT EXISTS (SELECT 1 FROM delivery WHERE subscription_id = $1)""",
                                        Tuple.of(id))
                                .chain(() -> batches(ids, i + 1, left - 1)));
    }
}
