package fr.osfria.webhook.retention;

import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Runs a sweep that deletes rows in small batches, each its own transaction, one sweep at a time on this replica. A
 * sweep says whether rows may be left (it stopped at its share of batches): it then runs again at once, and so does a
 * sweep asked for while one ran. A failure (PostgreSQL restarting mid-batch: that batch is rolled back whole) is
 * logged and left to the next call. Replicas may sweep at once: the batches lock their rows with SKIP LOCKED, so they
 * skip each other's, and the rows of any writer, instead of waiting.
 *
 * <p>Nothing may keep a sweep "under way" for ever (a connection that hangs with no reset would stop this replica's
 * sweeps until a restart): a batch statement ends after {@link #STATEMENT_TIMEOUT} ({@code statement_timeout}, set for
 * its transaction only), and a sweep that has not ended after {@link #PASS_TIMEOUT} is given up as failed, the next
 * call starting another. Each batch is its own transaction, so a sweep given up loses nothing but time.
 */
public final class SweepLoop {

    /** Longest a batch statement may run. */
    static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(30);
    /** Longest a sweep may run: far beyond what its share of batches and pauses takes. */
    static final Duration PASS_TIMEOUT = Duration.ofMinutes(5);

    private final String what;
    private final Supplier<Uni<Boolean>> sweep;
    private final Duration passTimeout;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();

    /** {@code sweep} emits true if rows may be left; {@code what} names them in the log. */
    public SweepLoop(String what, Supplier<Uni<Boolean>> sweep) {
        this(what, sweep, PASS_TIMEOUT);
    }

    SweepLoop(String what, Supplier<Uni<Boolean>> sweep, Duration passTimeout) {
        this.what = what;
        this.sweep = sweep;
        this.passTimeout = passTimeout;
    }

    /** Sweeps now, or again right after the sweep under way. */
    public void soon() {
        if (!sweeping.compareAndSet(false, true)) {
            again.set(true);
            return;
        }
        again.set(false);
        Uni.createFrom().deferred(sweep::get).ifNoItem().after(passTimeout).fail().subscribe().with(more -> {
            sweeping.set(false);
            if (more || again.get()) {
                soon();
            }
        }, e -> {
            sweeping.set(false);
            Log.warnf("sweeping %s failed, will retry: %s", what, e.getMessage());
        });
    }

    /** One batch statement in its own transaction, ended by PostgreSQL after {@link #STATEMENT_TIMEOUT}. */
    public static Uni<RowSet<Row>> batch(Pool db, String sql, Tuple args) {
        return batch(db, STATEMENT_TIMEOUT, sql, args);
    }

    static Uni<RowSet<Row>> batch(Pool db, Duration timeout, String sql, Tuple args) {
        return db.withTransaction(c -> c.preparedQuery("SELECT set_config('statement_timeout', $1, true)")
                .execute(Tuple.of(timeout.toMillis() + "ms"))
                .chain(() -> c.preparedQuery(sql).execute(args)));
    }

    /**
     * Runs the batches of each kind in turn, one of each a round (so that no kind waits for another to be done), with
     * {@code pause} after each round: until every kind has deleted fewer than {@code full} rows in a batch, at most
     * {@code rounds} rounds; emits true if rows may be left. The pause leaves the database to everyone else between
     * batches: on a database with months of history, back-to-back batches were hours of continuous deletion.
     */
    public static Uni<Boolean> inTurn(List<Supplier<Uni<Integer>>> kinds, int full, int rounds, Duration pause) {
        boolean[] left = new boolean[kinds.size()];
        Arrays.fill(left, true);
        return round(kinds, left, full, rounds, pause);
    }

    private static Uni<Boolean> round(List<Supplier<Uni<Integer>>> kinds, boolean[] left, int full, int rounds, Duration pause) {
        if (!any(left)) {
            return Uni.createFrom().item(false);
        }
        if (rounds == 0) {
            return Uni.createFrom().item(true);
        }
        Uni<Void> round = Uni.createFrom().voidItem();
        for (int i = 0; i < kinds.size(); i++) {
            int kind = i;
            if (left[kind]) {
                round = round.chain(() -> kinds.get(kind).get().invoke(n -> left[kind] = n >= full)).replaceWithVoid();
            }
        }
        return round.chain(() -> !any(left) ? Uni.createFrom().item(false)
                : Uni.createFrom().voidItem().onItem().delayIt().by(pause).chain(() -> round(kinds, left, full, rounds - 1, pause)));
    }

    private static boolean any(boolean[] left) {
        for (boolean b : left) {
            if (b) {
                return true;
            }
        }
        return false;
    }
}
