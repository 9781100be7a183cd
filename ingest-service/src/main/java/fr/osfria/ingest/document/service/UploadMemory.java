package fr.osfria.ingest.document.service;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap that files held whole may take at once, for every upload together (REST and Kafka, inline or by URL): a
 * confidential file is read whole and encrypted, about twice its size in memory. An upload takes its share before
 * and gives it back after; a burst waits for room instead of exhausting the heap. One upload larger than the whole
 * budget takes all of it, alone. The room is given in turn, but a key has at most one upload waiting in that queue:
 * its others wait behind it, on their own (worker) threads, so another key's upload waits behind at most one of
 * each key's, not behind a whole flood of one key's large files.
 */
public final class UploadMemory {

    private static final int UNIT = 1024; // permits are KiB: a semaphore counts in int

    private final Semaphore permits;
    private final int capacity;
    private final AtomicLong inUse = new AtomicLong();
    private final AtomicLong maxInUse = new AtomicLong();
    private final Map<String, Turn> turns = new ConcurrentHashMap<>();

    /** A key's place in the queue: one waiter at a time; {@code users} counts those holding or waiting for it. */
    private static final class Turn {
        final Semaphore one = new Semaphore(1, true);
        int users;
    }

    public UploadMemory(long bytes) {
        this.capacity = (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes / UNIT));
        this.permits = new Semaphore(capacity, true);
    }

    /** The default budget: a third of the maximum heap. */
    public static long defaultBytes() {
        return Runtime.getRuntime().maxMemory() / 3;
    }

    /** Holds room for {@code bytes} (blocking: a worker thread's) while {@code work} runs, as {@code owner}'s. */
    public <T> T holding(String owner, long bytes, Work<T> work) throws Exception {
        int units = (int) Math.min(capacity, Math.max(1, (bytes + UNIT - 1) / UNIT));
        // with a time-out, unlike tryAcquire(), a fair semaphore's waiters are not overtaken
        if (!permits.tryAcquire(units, 0, TimeUnit.SECONDS)) {
            Turn turn = turns.compute(owner, (k, t) -> {
                Turn mine = t == null ? new Turn() : t;
                mine.users++;
                return mine;
            });
            try {
                turn.one.acquire();
                try {
                    permits.acquire(units);
                } finally {
                    turn.one.release();
                }
            } finally {
                turns.computeIfPresent(owner, (k, t) -> --t.users == 0 ? null : t);
            }
        }
        try {
            long now = inUse.addAndGet((long) units * UNIT);
            maxInUse.accumulateAndGet(now, Math::max);
            return work.run();
        } finally {
            inUse.addAndGet(-(long) units * UNIT);
            permits.release(units);
        }
    }

    /** Uploads waiting for room, every key together (for tests). */
    int waiting() {
        return permits.getQueueLength();
    }

    /** The budget, in bytes. */
    public long capacityBytes() {
        return (long) capacity * UNIT;
    }

    /** The most ever held at once, in bytes (for tests and metrics). */
    public long maxInUseBytes() {
        return maxInUse.get();
    }

    @FunctionalInterface
    public interface Work<T> {
        T run() throws Exception;
    }
}
