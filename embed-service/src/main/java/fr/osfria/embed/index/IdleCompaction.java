package fr.osfria.embed.index;

import io.quarkus.logging.Log;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Merges the embedded index into one segment once writes pause ({@link LuceneStore#compact()}), when that pays and
 * the machine can afford it. Lucene runs the merge on its own merge thread, and Lucene 9.12 cannot abort a merge
 * while it builds the vector graph (most of its time: 477 s for 100,000 chunks under load): once started, a
 * compaction runs to its end whatever comes meanwhile (writes and searches go on beside it). Hence the conditions
 * before one starts, one try per pause, and a close that does not wait for it.
 */
final class IdleCompaction {

    /** Worth a rewrite of the whole index: at least this share of it lies outside the largest segment's live chunks. */
    static final double WORTH_IT = 0.10;

    /** The segments searches see: their number, their documents (deleted ones too), the largest one's live ones, bytes. */
    record Segments(int count, long docs, long largestLive, long bytes) {
    }

    private final LuceneStore store;
    private final Path dir;
    private final long idleNanos;
    private final long largestSegmentBytes;
    private final ScheduledExecutorService thread;
    private volatile long lastWrite = System.nanoTime();
    /** {@link #lastWrite} when a compaction was last considered: once per pause, so a failing one is not retried in a loop. */
    private volatile long consideredAt = Long.MIN_VALUE;

    IdleCompaction(LuceneStore store, Path dir, LuceneStore.Compaction settings, long largestSegmentBytes) {
        this.store = store;
        this.dir = dir;
        this.idleNanos = settings.whenIdleFor().toNanos();
        this.largestSegmentBytes = largestSegmentBytes;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "osfria-index-compaction");
            t.setDaemon(true);
            return t;
        });
        long ms = Math.max(1, settings.whenIdleFor().toMillis());
        thread.scheduleWithFixedDelay(this::compactIfIdle, ms, ms, TimeUnit.MILLISECONDS);
    }

    void written() {
        lastWrite = System.nanoTime();
    }

    private void compactIfIdle() {
        long write = lastWrite;
        if (System.nanoTime() - write < idleNanos || write == consideredAt) {
            return;
        }
        consideredAt = write;
        try {
            String reason = notNow(store.segments(), Files.getFileStore(dir).getUsableSpace(), largestSegmentBytes);
            if (reason != null) {
                Log.debugf("index not compacted: %s", reason);
                return;
            }
            long start = System.nanoTime();
            store.compact();
            Log.infof("index compacted into one segment in %d s", (System.nanoTime() - start) / 1_000_000_000);
        } catch (IOException | RuntimeException e) {
            Log.warnf(e, "compacting the index failed (tried again after the next writes); searches go on over its segments");
        }
    }

    /** Why the index is not merged now, or null if it should be. */
    static String notNow(Segments s, long usableBytes, long largestSegmentBytes) {
        if (s.count() < 2) {
            return "one segment";
        }
        if (s.docs() - s.largestLive() < WORTH_IT * s.docs()) {
            // a trickle of small documents would otherwise rewrite the whole index after every pause
            return "the largest segment holds over " + Math.round(100 * (1 - WORTH_IT)) + " % of it";
        }
        if (s.bytes() > largestSegmentBytes) {
            // the merge's vector graph is built on the heap: no larger than Lucene's own merges ever build
            return "larger than the merge policy's largest segment";
        }
        if (usableBytes < 2 * s.bytes()) {
            // the merged copy is written before the old segments go; the indexer's writes must still fit
            return "less free disk than twice the index";
        }
        return null;
    }

    /** Stops considering compactions; whether none runs any more after waiting {@code patience} for it. */
    boolean stop(java.time.Duration patience) {
        thread.shutdown(); // never interrupted: a thread interrupted in Lucene's file I/O closes the channel, the write lock's too
        try {
            return thread.awaitTermination(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
