package fr.osfria.webhook;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

@ConfigMapping(prefix = "osfria.webhook")
public interface WebhookConfig {

    /**
     * Hosts (names or addresses) that may be targets although they are loopback or link-local; on-prem receivers on
     * private networks are allowed without it. Cloud metadata addresses are refused unless listed here too.
     */
    Optional<List<String>> allowedHosts();

    /**
     * Total deadline of one attempt, from its start to the receiver's status line and headers (waiting for a
     * connection, connecting, sending): not an idle time-out, a receiver that trickles bytes cannot stretch it.
     */
    @WithDefault("15s")
    Duration timeout();

    /**
     * Attempts in flight at once per subscription (on each replica): a slow, black-holed or drip-feeding receiver
     * holds at most this many, and the other subscriptions take their turns meanwhile.
     */
    @WithDefault("64")
    int maxInFlight();

    /**
     * Subscriptions one key may have. Each event becomes a delivery row per subscription that wants it, written in the
     * transaction that takes in everyone's events: without a bound, one key could multiply the intake's work for all.
     * Admin keys (the operators') are not bound.
     */
    @WithDefault("20")
    int maxSubscriptionsPerKey();

    /** Delays before each retry (the first attempt is immediate); after the last, the delivery is exhausted. */
    @WithDefault("5s,5m,30m,2h,5h,10h,10h")
    List<Duration> retrySchedule();

    /** A subscription whose deliveries have all failed for this long is disabled, and says so. */
    @WithDefault("5d")
    Duration disableAfter();

    /**
     * How long a claimed delivery belongs to the instance that claimed it. If that instance dies, another sends the
     * delivery once the lease has run out; it must outlast an attempt's time-out, with room for the checks before it:
     * an attempt with less than its time-out left of its lease renews it before it is sent (not sent if the delivery
     * was taken over meanwhile). The service does not start with a lease no longer than the time-out.
     */
    @WithDefault("2m")
    Duration lease();

    /**
     * How the names of webhook targets are looked up, at a subscription's creation and before every attempt: on
     * threads of the service's own, a few per subscription owner, so that one owner's slow name server delays only
     * that owner's deliveries.
     */
    Lookups lookups();

    interface Lookups {

        /**
         * Lookups of one owner (key) running at once; its further lookups wait in its own queue. A name server that
         * never answers holds as many threads of its owner's until the JVM's resolver gives up.
         */
        @WithDefault("2")
        int perOwner();

        /**
         * Lookups running at once, every owner together: the bound on the threads that hanging lookups can hold.
         * Filling it takes this many divided by {@code per-owner} owners whose name servers hang at the same time.
         */
        @WithDefault("32")
        int threads();

        /**
         * How long a check waits for a lookup: then the attempt fails as {@code lookup_timeout} (not
         * {@code refused_by_policy}: nothing is known against the URL) and is retried on the schedule like any other
         * failure, and a subscription's create or update answers 503 with {@code Retry-After}. Counted from the ask
         * (a wait for a thread included), and longer than the resolver's own 5 s per try. A resolver that fails after
         * at least 5 s (half of it if that is shorter) gave up on a name server that did not answer:
         * {@code lookup_timeout} too.
         */
        @WithDefault("15s")
        Duration deadline();

        /**
         * How long an answer is reused (by every owner's checks of that name) before the name is looked up again; a
         * quick failure at most 5 s. The JVM caches answers as long (30 s), and the connection always goes to the
         * address that was checked.
         */
        @WithDefault("30s")
        Duration remembered();
    }

    /** How often due deliveries are looked for (a new event also wakes the sender at once). */
    @WithDefault("1s")
    Duration pollInterval();

    /**
     * How long a finished delivery (delivered, failed, exhausted or skipped) is kept, with its attempts, from its
     * creation; it is then deleted, and neither listed nor replayed any more. A delivery still pending by then, with no
     * attempt in flight, is ended (exhausted, {@code expired}) and deleted as well.
     */
    @WithDefault("30d")
    Duration deliveryRetention();

    /**
     * How long the id of an event taken in is kept, so that an event Kafka delivers again adds nothing. It must
     * outlast what the event topics can still deliver: they keep a record 7 days ({@code retention.ms}), and a record
     * goes only with its segment, which rolls after up to 7 days more ({@code segment.ms}).
     */
    @WithDefault("15d")
    Duration receivedEventRetention();

    /**
     * How often the retention sweeps ({@code delivery-retention}, {@code received-event-retention}); the first pass
     * runs 20 s after the start. Rows outlive their retention by up to this much, a negligible share of days. A pass
     * that finds nothing costs three index probes per subscription, but it ran every 10 s beside the intake, the
     * claims and the outcome writes.
     */
    @WithDefault("5m")
    Duration retentionSweepInterval();
}
