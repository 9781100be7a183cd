package fr.osfria.ingest.document.service;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap that files held whole may take at once, for every upload together (REST and Kafka, inline or by URL): a
 * confidential file is read whole and encrypted, about twice its size in memory. An upload takes its share before
 * and gives it back after; a burst waits for room instead of exhausting the heap. One upload larger than the whole
 * budget takes all of it, alone.
 */
public final class UploadMemory {

    private static final int UNIT = 1024; // permits are KiB: a semaphore counts in int

    private final Semaphore permits;
    private final int capacity;
    private final AtomicLong inUse = new AtomicLong();
    private final AtomicLong maxInUse = new AtomicLong();

    public UploadMemory(long bytes) {
        this.capacity = (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes / UNIT));
        this.permits = new Semaphore(capacity, true);
    }

    /** The default budget: a third of the maximum heap. */
    public static long defaultBytes() {
        return Runtime.getRuntime().maxMemory() / 3;
    }

    /** Holds room for {@code bytes} (blocking: a worker thread's) while {@code work} runs. */
    public <T> T holding(long bytes, Work<T> work) throws Exception {
        int units = (int) Math.min(capacity, Math.max(1, (bytes + UNIT - 1) / UNIT));
        permits.acquire(units);
        try {
            long now = inUse.addAndGet((long) units * UNIT);
            maxInUse.accumulateAndGet(now, Math::max);
            return work.run();
        } finally {
            inUse.addAndGet(-(long) units * UNIT);
            permits.release(units);
        }
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
