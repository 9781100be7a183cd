package fr.osfria.webhook.subscription;

import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;

/**
 * Deletes a subscription and its deliveries without ever waiting on a delivery row the sender holds. The sender's
 * outcome write locks deliveries and then notes failures on their subscription; a deletion that locked the
 * subscription and then waited for its deliveries (the foreign key's cascade did) closed the circle, and PostgreSQL
 * ended one of the two: the deletion answered 500, or a whole batch of outcomes was lost and sent again. Here the
 * subscription goes first, with the deliveries nobody holds; the few that an outcome write holds at that moment are
 * deleted once it lets them go (milliseconds). Deliveries are inserted only for subscriptions their statement locks,
 * so none appears for a deleted one.
 */
@ApplicationScoped
public class SubscriptionRemoval {

    private static final String DELETE_FREE_DELIVERIES = """
            DELETE FROM delivery WHERE id IN (
              SELECT id FROM delivery WHERE subscription_id = $1 FOR UPDATE SKIP LOCKED)""";
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private final Pool db;

    public SubscriptionRemoval(Pool db) {
        this.db = db;
    }

    /** True if the subscription existed and is gone, with its deliveries. */
    public Uni<Boolean> remove(String id) {
        return db.withTransaction(conn -> conn.preparedQuery("DELETE FROM subscription WHERE id = $1").execute(Tuple.of(id))
                        .chain(deleted -> deleted.rowCount() == 0 ? Uni.createFrom().item(false)
                                : conn.preparedQuery(DELETE_FREE_DELIVERIES).execute(Tuple.of(id)).replaceWith(true)))
                .call(deleted -> deleted ? leftovers(id, System.nanoTime() + PATIENCE.toNanos()) : Uni.createFrom().voidItem());
    }

    /** The deliveries an outcome write held during the deletion, once it has let them go. */
    private Uni<Void> leftovers(String id, long until) {
        return db.preparedQuery("SELECT EXISTS (SELECT 1 FROM delivery WHERE subscription_id = $1) AS left")
                .execute(Tuple.of(id))
                .chain(rows -> {
                    if (!rows.iterator().next().getBoolean("left")) {
                        return Uni.createFrom().voidItem();
                    }
                    if (System.nanoTime() > until) {
                        // never sent (the claim joins the subscription); only counted in the backlog until deleted
                        Log.warnf("deliveries of deleted subscription %s are still held by a writer: left in place", id);
                        return Uni.createFrom().voidItem();
                    }
                    return Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofMillis(50))
                            .chain(() -> db.preparedQuery(DELETE_FREE_DELIVERIES).execute(Tuple.of(id)))
                            .chain(() -> leftovers(id, until));
                });
    }
}
