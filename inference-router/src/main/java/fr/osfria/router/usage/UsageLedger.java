package fr.osfria.router.usage;

import fr.osfria.router.RouterConfig;
import fr.osfria.security.key.KeyEntry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Daily and monthly token quotas. What a key has used is the sum of three parts:
 * <ul>
 * <li>the totals of every replica, read from the usage tallies topic (from the start of the month when the router
 * starts, then live: {@link TalliesReader});</li>
 * <li>this replica's <em>reservations</em>: a request is admitted only if its estimated prompt fits in what is left,
 * and then holds its prompt estimate plus {@code max_tokens} (a default when absent) until it ends, so concurrent
 * requests cannot all be let in against the same remainder;</li>
 * <li>this replica's <em>unconfirmed</em> usage: a request that ends gives back its reservation and adds its real
 * usage here, where it stays until this replica reads its own tally of it back from the topic. Without it, a
 * request's cost would vanish for the ~2 s between its end and the tally's return.</li>
 * </ul>
 * Until the first replay has reached the end of the topic, keys with a quota are refused with 503 (their totals
 * are not known); after that, a Kafka outage keeps the last totals. Keys without a quota never wait for any of it.
 *
 * <p>Reservations are per replica: replicas see each other's usage only through the topic, about two seconds after
 * it happened. One replica overruns a quota by at most the {@code max_tokens} of the request admitted last (plus
 * what its prompt estimate fell short); N replicas serving one key at once can each admit against the same
 * remainder during those two seconds.
 */
@ApplicationScoped
public class UsageLedger {

    /** Retry-After of a refusal while the totals are not known yet. */
    static final long UNAVAILABLE_RETRY_SECONDS = 5;
    /** Largest completion a reservation holds: far above any quota, far below an overflow of a key's sum. */
    static final long MAX_RESERVATION = 1L << 40;

    /** A refusal: status 429 {@code quota_exceeded} or 503 {@code quota_unavailable}, with a Retry-After. */
    public record Refusal(int status, String code, long retryAfterSeconds, String message) {
    }

    /** Tokens held by one admitted request of a key with a quota, until {@link #settle}. */
    public static final class Reservation {
        private final String keyName;
        private final long tokens;
        private boolean settled;

        private Reservation(String keyName, long tokens) {
            this.keyName = keyName;
            this.tokens = tokens;
        }

        public long tokens() {
            return tokens;
        }
    }

    /** This replica's share of a key's usage that the totals do not hold yet. */
    private static final class Held {
        long reserved;
        long unconfirmed;
    }

    private final UsageTotals totals;
    private final UsageHistory history;
    private final long defaultMaxTokens;
    private final TalliesReader reader;
    private final ConcurrentHashMap<String, Held> held = new ConcurrentHashMap<>();

    @Inject
    public UsageLedger(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap, RouterConfig config) {
        this(bootstrap, ZoneId.of(config.quota().zone()), config.quota().defaultMaxTokens());
    }

    public UsageLedger(String bootstrap, ZoneId zone, long defaultMaxTokens) {
        this.totals = new UsageTotals(zone);
        this.history = new UsageHistory(zone);
        this.defaultMaxTokens = defaultMaxTokens;
        // from the month's start for the quotas, or earlier for the days GET /v1/usage shows
        this.reader = new TalliesReader(bootstrap, () -> {
            Instant now = Instant.now();
            Instant month = totals.monthStart(now);
            Instant days = history.replayStart(now);
            return days.isBefore(month) ? days : month;
        }, this::read);
    }

    void start(@Observes StartupEvent event) {
        start();
    }

    void stop(@Observes ShutdownEvent event) {
        stop();
    }

    public void start() {
        Thread thread = new Thread(reader, "osfria-usage-ledger");
        thread.setDaemon(true);
        thread.start();
    }

    public void stop() {
        reader.stop();
    }

    /** Whether the initial replay reached the end of the topic. */
    public boolean caughtUp() {
        return reader.caughtUp();
    }

    /**
     * Before the body is read: a refusal when the key has a quota and nothing of it is left (or its totals are not
     * known yet), else null.
     */
    public Refusal check(KeyEntry key, Instant now) {
        if (!hasQuota(key)) {
            return null;
        }
        Held h = held(key);
        synchronized (h) {
            return refusal(key, h, now, 0);
        }
    }

    /**
     * Admits a request whose estimated prompt fits in what is left of the key's quotas and holds the prompt estimate
     * plus {@code maxTokens} (the default when negative) until {@link #settle}. Returns null for a key without a
     * quota: nothing to hold. Throws {@link Refused} otherwise.
     */
    public Reservation reserve(KeyEntry key, long promptEstimate, long maxTokens, Instant now) throws Refused {
        if (!hasQuota(key)) {
            return null;
        }
        Held h = held(key);
        synchronized (h) {
            Refusal refusal = refusal(key, h, now, promptEstimate);
            if (refusal != null) {
                throw new Refused(refusal);
            }
            // capped: a hostile max_tokens near Long.MAX_VALUE must not overflow the sum into a negative hold
            long tokens = promptEstimate + Math.min(MAX_RESERVATION, maxTokens >= 0 ? maxTokens : defaultMaxTokens);
            h.reserved += tokens;
            return new Reservation(key.name(), tokens);
        }
    }

    /** A request ended: its reservation is given back and what it really used counts until its tally returns. */
    public void settle(Reservation reservation, long usedTokens) {
        if (reservation == null) {
            return;
        }
        Held h = held.computeIfAbsent(reservation.keyName, k -> new Held());
        synchronized (h) {
            if (reservation.settled) {
                return;
            }
            reservation.settled = true;
            h.reserved = Math.max(0, h.reserved - reservation.tokens);
            h.unconfirmed += Math.max(0, usedTokens);
        }
    }

    /**
     * Usage of this replica that will never come back from the topic (Kafka refused its tally, or its record was
     * dropped before being tallied): counted into this replica's totals directly.
     */
    public void countLocally(String keyName, Instant time, long tokens, long requests) {
        read(new TalliesTopic.Tally(keyName, time, tokens, requests), true);
    }

    /** Tokens and requests per key and day, from the same tallies. */
    public UsageHistory history() {
        return history;
    }

    /** Tokens counted for the key today and this month, from every replica's tallies (not this replica's holds). */
    public long[] usedTodayAndThisMonth(String keyName, Instant now) {
        return new long[] {totals.today(keyName, now), totals.thisMonth(keyName, now)};
    }

    /** What counts against the key's daily quota on this replica now: totals, unconfirmed usage and reservations. */
    long countedToday(String keyName, Instant now) {
        Held h = held.get(keyName);
        if (h == null) {
            return totals.today(keyName, now);
        }
        synchronized (h) {
            return totals.today(keyName, now) + h.unconfirmed + h.reserved;
        }
    }

    private void read(TalliesTopic.Tally tally, boolean own) {
        totals.add(tally.keyName(), tally.time(), tally.totalTokens()); // first: counted twice for a moment, never zero
        history.add(tally.keyName(), tally.time(), tally.totalTokens(), tally.requests());
        if (own) {
            Held h = held.get(tally.keyName());
            if (h != null) {
                synchronized (h) {
                    h.unconfirmed = Math.max(0, h.unconfirmed - tally.totalTokens());
                }
            }
        }
    }

    private Refusal refusal(KeyEntry key, Held h, Instant now, long needed) {
        if (!reader.caughtUp()) {
            return new Refusal(503, "quota_unavailable", UNAVAILABLE_RETRY_SECONDS, "The usage of key '" + key.name()
                    + "' is still being read after a start: its quota cannot be checked yet");
        }
        Refusal daily = refusal(key, "daily", key.dailyTokens(), totals.today(key.name(), now), h, needed,
                totals.secondsToEndOfDay(now));
        return daily != null ? daily : refusal(key, "monthly", key.monthlyTokens(), totals.thisMonth(key.name(), now),
                h, needed, totals.secondsToEndOfMonth(now));
    }

    private static Refusal refusal(KeyEntry key, String window, Long quota, long confirmed, Held h, long needed,
                                   long secondsToEnd) {
        if (quota == null) {
            return null;
        }
        long used = confirmed + h.unconfirmed;
        if (used >= quota) {
            return new Refusal(429, "quota_exceeded", secondsToEnd, "Key '" + key.name() + "' has used its " + window
                    + " quota of " + quota + " tokens");
        }
        if (used + Math.max(1, needed) > quota) { // only a new window makes room for this prompt
            return new Refusal(429, "quota_exceeded", secondsToEnd, "Key '" + key.name() + "' has " + (quota - used)
                    + " tokens left of its " + window + " quota, this request's prompt needs about " + needed);
        }
        if (used + h.reserved + Math.max(1, needed) > quota) { // requests in progress hold the rest
            return new Refusal(429, "quota_exceeded", 1, "Key '" + key.name() + "': the rest of its " + window
                    + " quota of " + quota + " tokens is held by its requests in progress");
        }
        return null;
    }

    private Held held(KeyEntry key) {
        return held.computeIfAbsent(key.name(), k -> new Held());
    }

    private static boolean hasQuota(KeyEntry key) {
        return key.dailyTokens() != null || key.monthlyTokens() != null;
    }

    /** The request is refused; the refusal says how to answer. */
    public static final class Refused extends Exception {
        private final transient Refusal refusal;

        Refused(Refusal refusal) {
            super(refusal.message(), null, false, false);
            this.refusal = refusal;
        }

        public Refusal refusal() {
            return refusal;
        }
    }
}
