package fr.osfria.webhook.retention;

import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Runs a sweep that deletes rows in small batches, each its own transaction, one sweep at a time on this replica. A
 * sweep says whether rows may be left (it stopped at its share of batches): it then runs again at once, and so does a
 * sweep asked for while one ran. A failure (PostgreSQL restarting mid-batch: that batch is rolled back whole) is
 * logged and left to the next call. Replicas may sweep at once: the batches lock their rows with SKIP LOCKED, so they
 * skip each other's, and the rows of any writer, instead of waiting.
 */
public final class SweepLoop {

    private final String what;
    private final Supplier<Uni<Boolean>> sweep;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();

    /** {@code sweep} emits true if rows may be left; {@code what} names them in the log. */
    public SweepLoop(String what, Supplier<Uni<Boolean>> sweep) {
        this.what = what;
        this.sweep = sweep;
    }

    /** Sweeps now, or again right after the sweep under way. */
    public void soon() {
        if (!sweeping.compareAndSet(false, true)) {
            again.set(true);
            return;
        }
        again.set(false);
        Uni.createFrom().deferred(sweep::get).subscribe().with(more -> {
            sweeping.set(false);
            if (more || again.get()) {
                soon();
            }
        }, e -> {
            sweeping.set(false);
            Log.warnf("sweeping %s failed, will retry: %s", what, e.getMessage());
        });
    }

    /**
     * Runs {@code batch} (rows deleted by one transaction) until one deletes fewer than {@code full} rows, at most
     * {@code batches} times; emits the batches left, 0 if rows may be left.
     */
    public static Uni<Integer> repeat(Supplier<Uni<Integer>> batch, int full, int batches) {
        if (batches == 0) {
            return Uni.createFrom().item(0);
        }
        return batch.get().chain(deleted -> deleted < full ? Uni.createFrom().item(batches - 1)
                : repeat(batch, full, batches - 1));
    }
}
