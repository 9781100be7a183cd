package fr.osfria.webhook.retention;

import fr.osfria.events.EventTypes;
import fr.osfria.webhook.WebhookConfig;
import fr.osfria.webhook.delivery.DeliverySender;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * Bounds the tables that grow with every event: deletes finished deliveries (and their attempts, by the attempts'
 * cascade) created more than {@code osfria.webhook.delivery-retention} ago, and the ids of events received more than
 * {@code osfria.webhook.received-event-retention} ago, when Kafka can no longer deliver them again. A delivery still
 * pending past the delivery retention, and not leased (no attempt in flight), is ended first: no retry schedule keeps
 * one pending for more than days ({@code Retry-After} counts at most a day), but a receiver that times out on nearly
 * every attempt and succeeds once every few days is never disabled, and its backlog would stay pending for ever, read
 * again by every sweep. It becomes {@code exhausted} with {@code last_error} {@code expired}, {@code webhook.exhausted}
 * is published as the sender does, and it is deleted as a finished one.
 *
 * <p>Batches of {@link #BATCH} rows, each its own transaction, lock their rows with SKIP LOCKED: a row a replay or an
 * outcome write holds is left to a later sweep, and none of them ever waits for a sweep longer than one batch (a replay
 * of the very delivery being deleted then answers 404). The kinds of batch (expiry, deliveries, received events) take
 * turns, with a {@link #PAUSE} after each round. The batch's ids are deleted as an array
 * ({@code id = ANY (ARRAY (...))}), by the primary key: as {@code id IN (...)}, the planner joined them to a scan of the
 * whole table, once per batch.
 */
@ApplicationScoped
public class RetentionSweeper {

    /** Rows one transaction deletes. */
    static final int BATCH = 2_000;
    /** Rounds (a batch of each kind) one sweep runs before it starts again (at once if rows are left). */
    private static final int ROUNDS_PER_SWEEP = 50;
    /** Pause after each round: at most 3 batches of 2,000 rows, then the database is everyone else's for a while. */
    static final Duration PAUSE = Duration.ofMillis(250);
    /** {@code last_error} of a delivery ended by the retention while still pending. */
    public static final String EXPIRED = "expired";

    private final Pool db;
    private final WebhookConfig config;
    private final MutinyEmitter<String> events;
    private final Counter deliveriesRemoved;
    private final Counter eventsRemoved;
    private final Counter expired;
    private final SweepLoop loop = new SweepLoop("expired deliveries and received events", this::sweep);

    public RetentionSweeper(Pool db, WebhookConfig config, MeterRegistry metrics,
                            @Channel(DeliverySender.PUBLIC_EVENTS_OUT) MutinyEmitter<String> events) {
        this.db = db;
        this.config = config;
        this.events = events;
        this.deliveriesRemoved = metrics.counter("osfria.webhook.rows.removed", "table", "delivery", "reason", "retention");
        this.eventsRemoved = metrics.counter("osfria.webhook.rows.removed", "table", "received_event", "reason", "retention");
        this.expired = metrics.counter("osfria.webhook.deliveries", "outcome", "expired");
    }

    @Scheduled(every = "${osfria.webhook.retention-sweep-interval}", delayed = "20s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
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
        OffsetDateTime deliveriesBefore = now.minus(config.deliveryRetention());
        OffsetDateTime eventsBefore = now.minus(config.receivedEventRetention());
        AtomicReference<String> expiring = new AtomicReference<>("");
        AtomicReference<String> deleting = new AtomicReference<>("");
        return SweepLoop.inTurn(List.of(() -> expirePending(deliveriesBefore, now, expiring),
                () -> deliveries(deliveriesBefore, deleting), () -> receivedEvents(eventsBefore)), BATCH, ROUNDS_PER_SWEEP, PAUSE);
    }

    /**
     * Deliveries of a live subscription created before {@code before}, subscription by subscription in id order from
     * {@code from}, each probing the index its listing reads ({@code subscription_id, created_at}): the outcome writes
     * pay no index entry for the retention. A deleted subscription's deliveries are {@code SubscriptionSweeper}'s.
     */
    private static final String OLD_DELIVERIES = """
            SELECT c.id FROM (SELECT id FROM subscription WHERE id >= $3 ORDER BY id) s
              CROSS JOIN LATERAL (
                SELECT id FROM delivery WHERE subscription_id = s.id AND created_at < $1 AND %s
                LIMIT $2 FOR UPDATE SKIP LOCKED) c
            LIMIT $2""";

    /** Pending deliveries past the retention with no attempt in flight (not leased) end, exhausted: {@link #EXPIRED}. */
    private Uni<Integer> expirePending(OffsetDateTime before, OffsetDateTime now, AtomicReference<String> from) {
        return SweepLoop.batch(db, """
                        UPDATE delivery SET status = 'EXHAUSTED', last_error = '%s', lease_until = NULL, finished_at = $4
                        WHERE id = ANY (ARRAY (%s))
                        RETURNING id, subscription_id, event_type, attempts""".formatted(EXPIRED,
                        OLD_DELIVERIES.formatted("status = 'PENDING' AND (lease_until IS NULL OR lease_until < $4)")),
                        Tuple.of(before, BATCH, from.get(), now))
                .chain(rows -> {
                    advance(from, rows);
                    expired.increment(rows.rowCount());
                    return announce(rows).replaceWith(rows.rowCount());
                });
    }

    /**
     * {@code webhook.exhausted} for each delivery ended, as the sender announces an exhaustion (none for a
     * {@code webhook.exhausted} delivery itself). The deliveries are ended already: an announcement Kafka refuses is
     * logged and lost, as the sender's is.
     */
    private Uni<Void> announce(RowSet<Row> rows) {
        List<Uni<Void>> sends = new ArrayList<>();
        for (Row r : rows) {
            if (!EventTypes.WEBHOOK_EXHAUSTED.equals(r.getString("event_type"))) {
                sends.add(events.sendMessage(DeliverySender.exhausted(r.getString("subscription_id"), r.getString("id"),
                        r.getString("event_type"), r.getInteger("attempts"), EXPIRED)));
            }
        }
        return sends.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(sends).andCollectFailures().replaceWithVoid()
                .onFailure().recoverWithUni(e -> {
                    Log.warnf("webhook.exhausted could not be published for expired deliveries: %s", e.getMessage());
                    return Uni.createFrom().voidItem();
                });
    }

    /** Finished deliveries created before {@code before}. */
    private Uni<Integer> deliveries(OffsetDateTime before, AtomicReference<String> from) {
        return SweepLoop.batch(db, """
                        DELETE FROM delivery WHERE id = ANY (ARRAY (%s))
                        RETURNING subscription_id""".formatted(
                        OLD_DELIVERIES.formatted("status IN ('DELIVERED', 'FAILED', 'EXHAUSTED', 'SKIPPED')")),
                        Tuple.of(before, BATCH, from.get()))
                .map(rows -> {
                    advance(from, rows);
                    deliveriesRemoved.increment(rows.rowCount());
                    return rows.rowCount();
                });
    }

    /** A full batch may have stopped inside its last subscription: the next one starts there. */
    private static void advance(AtomicReference<String> from, RowSet<Row> rows) {
        for (Row r : rows) {
            if (r.getString("subscription_id").compareTo(from.get()) > 0) {
                from.set(r.getString("subscription_id"));
            }
        }
    }

    private Uni<Integer> receivedEvents(OffsetDateTime before) {
        return SweepLoop.batch(db, """
                        DELETE FROM received_event WHERE event_id = ANY (ARRAY (
                          SELECT event_id FROM received_event WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))""",
                        Tuple.of(before, BATCH))
                .map(rows -> {
                    eventsRemoved.increment(rows.rowCount());
                    return rows.rowCount();
                });
    }
}
