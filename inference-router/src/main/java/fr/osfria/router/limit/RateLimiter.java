package fr.osfria.router.limit;

import fr.osfria.security.key.KeyEntry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-key request and token rates, as token buckets refilled continuously over a minute. A request is let in while
 * the key's token bucket is positive and charged its exact usage when it ends, so one large answer can take the
 * bucket below zero and make the next requests wait. Limits are per router replica.
 */
@ApplicationScoped
public class RateLimiter {

    /** A refusal: the client may retry after {@code retryAfterSeconds}. */
    public record Refusal(long retryAfterSeconds, String message) {
    }

    private static final class Bucket {
        private double level;
        private long refilledAt;
        private double perMinute;

        Bucket(double perMinute, long now) {
            this.perMinute = perMinute;
            this.level = perMinute;
            this.refilledAt = now;
        }

        void refill(double limit, long now) {
            if (limit != perMinute) { // the key file changed the limit
                level = Math.min(level, limit);
                perMinute = limit;
            }
            level = Math.min(perMinute, level + (now - refilledAt) * perMinute / 60e9);
            refilledAt = now;
        }

        long secondsUntil(double needed) {
            return Math.max(1, (long) Math.ceil((needed - level) * 60 / perMinute));
        }
    }

    private final ConcurrentHashMap<String, Bucket> requests = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Bucket> tokens = new ConcurrentHashMap<>();

    /** Takes one request from the key's budget, or says how long to wait. */
    public Refusal admit(KeyEntry key, long now) {
        Long rpm = key.requestsPerMinute();
        Long tpm = key.tokensPerMinute();
        if (tpm != null) {
            Bucket t = tokens.computeIfAbsent(key.name(), k -> new Bucket(tpm, now));
            synchronized (t) {
                t.refill(tpm, now);
                if (t.level <= 0) {
                    return new Refusal(t.secondsUntil(1), "Rate limit reached for key '" + key.name() + "': "
                            + tpm + " tokens per minute");
                }
            }
        }
        if (rpm != null) {
            Bucket r = requests.computeIfAbsent(key.name(), k -> new Bucket(rpm, now));
            synchronized (r) {
                r.refill(rpm, now);
                if (r.level < 1) {
                    return new Refusal(r.secondsUntil(1), "Rate limit reached for key '" + key.name() + "': "
                            + rpm + " requests per minute");
                }
                r.level -= 1;
            }
        }
        return null;
    }

    /** Charges the tokens a finished request used. */
    public void charge(KeyEntry key, long usedTokens, long now) {
        Long tpm = key.tokensPerMinute();
        if (tpm == null || usedTokens <= 0) {
            return;
        }
        Bucket t = tokens.computeIfAbsent(key.name(), k -> new Bucket(tpm, now));
        synchronized (t) {
            t.refill(tpm, now);
            t.level -= usedTokens;
        }
    }
}
