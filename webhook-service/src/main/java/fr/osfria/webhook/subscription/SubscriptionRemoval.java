package fr.osfria.webhook.subscription;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Deletes a subscription: its row and a tombstone, in one short transaction; {@link SubscriptionSweeper} removes its
 * deliveries afterwards, in small batches. Nothing needs them gone at once: the claim joins the subscription (none
 * is sent again), listings look the subscription up first and replays, pings and changes lock it as they write (404),
 * the intake inserts only for subscriptions it locks, and the backlog's gauges count only existing subscriptions.
 * Deleting them in this transaction held the subscription's row, and every key's intake behind it, for as long as the backlog took; and
 * waiting there on rows the sender's outcome write held (it then waits for the subscription's row) deadlocked.
 */
@ApplicationScoped
public class SubscriptionRemoval {

    private final Pool db;
    private final SubscriptionSweeper sweeper;

    public SubscriptionRemoval(Pool db, SubscriptionSweeper sweeper) {
        this.db = db;
        this.sweeper = sweeper;
    }

    /** True if the subscription existed and is gone; its deliveries follow within seconds. */
    public Uni<Boolean> remove(String id) {
        return db.withTransaction(conn -> conn.preparedQuery("DELETE FROM subscription WHERE id = $1").execute(Tuple.of(id))
                        .chain(deleted -> deleted.rowCount() == 0 ? Uni.createFrom().item(false)
                                : conn.preparedQuery("INSERT INTO deleted_subscription (id, deleted_at) VALUES ($1, now())")
                                        .execute(Tuple.of(id)).replaceWith(true)))
                .invoke(deleted -> {
                    if (deleted) {
                        sweeper.soon();
                    }
                });
    }
}
