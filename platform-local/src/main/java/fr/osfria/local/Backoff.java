package fr.osfria.local;

import java.time.Duration;

/**
 * How long to wait before restarting a process that died: {@code initial}, then doubled at each death (1 s, 2 s,
 * 4 s …) up to {@code max}; a process that had run for {@code stableAfter} before it died starts again from
 * {@code initial}. Not thread-safe: one per supervised process, used under its lock.
 */
public final class Backoff {

    /** 1 s, 2 s, 4 s … capped at 30 s, reset after a stable minute. */
    public static final Duration INITIAL = Duration.ofSeconds(1);
    public static final Duration MAX = Duration.ofSeconds(30);
    public static final Duration STABLE_AFTER = Duration.ofMinutes(1);

    private final Duration initial;
    private final Duration max;
    private final Duration stableAfter;
    private Duration next;

    public Backoff(Duration initial, Duration max, Duration stableAfter) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("need 0 < initial <= max");
        }
        this.initial = initial;
        this.max = max;
        this.stableAfter = stableAfter;
        this.next = initial;
    }

    public static Backoff standard() {
        return new Backoff(INITIAL, MAX, STABLE_AFTER);
    }

    /** The delay before the next start of a process that died after running for {@code uptime}. */
    public Duration afterDeath(Duration uptime) {
        if (uptime.compareTo(stableAfter) >= 0) {
            next = initial;
        }
        Duration delay = next;
        next = delay.multipliedBy(2).compareTo(max) > 0 ? max : delay.multipliedBy(2);
        return delay;
    }
}
