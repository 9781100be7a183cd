package fr.osfria.router.backend;

import java.time.Duration;

/**
 * Ejects a backend after consecutive failures, for a time that doubles each time it is ejected again without a
 * success in between (up to a cap). When the time is up the backend takes traffic again: one more failure ejects
 * it at once, one success closes the breaker.
 */
public final class CircuitBreaker {

    private final int threshold;
    private final long baseNanos;
    private final long maxNanos;
    private int consecutiveFailures;
    private boolean everEjected;
    private long ejectedUntil;
    private long currentEjectNanos;
    private long ejections;

    public CircuitBreaker(int threshold, Duration ejectFor, Duration maxEjectFor) {
        this.threshold = Math.max(1, threshold);
        this.baseNanos = ejectFor.toNanos();
        this.maxNanos = Math.max(baseNanos, maxEjectFor.toNanos());
        this.currentEjectNanos = baseNanos;
    }

    public synchronized boolean allows(long now) {
        return !everEjected || now - ejectedUntil >= 0; // nanoTime values compare by difference only
    }

    public synchronized boolean ejected(long now) {
        return !allows(now);
    }

    public synchronized void success() {
        consecutiveFailures = 0;
        currentEjectNanos = baseNanos;
    }

    /** Counts a failure; returns true when this failure ejected the backend. */
    public synchronized boolean failure(long now) {
        consecutiveFailures++;
        if (consecutiveFailures < threshold || ejected(now)) {
            return false;
        }
        everEjected = true;
        ejectedUntil = now + currentEjectNanos;
        currentEjectNanos = Math.min(maxNanos, currentEjectNanos * 2);
        consecutiveFailures = threshold - 1; // after the ejection, the next failure ejects again
        ejections++;
        return true;
    }

    public synchronized long ejections() {
        return ejections;
    }
}
