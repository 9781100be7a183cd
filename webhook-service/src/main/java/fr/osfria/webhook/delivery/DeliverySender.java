package fr.osfria.webhook.delivery;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventTypes;
import fr.osfria.events.webhook.WebhookExhausted;
import fr.osfria.security.error.DatabaseConflict;
import fr.osfria.security.messaging.EventMessages;
import fr.osfria.webhook.WebhookConfig;
import fr.osfria.webhook.signing.Signatures;
import fr.osfria.webhook.subscription.SecretBox;
import fr.osfria.security.network.TargetPolicy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * Sends due deliveries, with no head-of-line blocking: each attempt is started as soon as its subscription has a free
 * slot and recorded as soon as it ends, so a slow, black-holed or drip-feeding receiver delays only its own
 * deliveries.
 *
 * <p>A delivery is claimed with a lease (row lock, SKIP LOCKED) so that replicas never send it at the same time, sent
 * with no lock held, and its outcome recorded with the attempt: delivered, retried later on the schedule (or after the
 * receiver's {@code Retry-After}), exhausted, or failed because the receiver answered {@code 410 Gone}, which also
 * disables the subscription. A claim takes at most the free slots of each subscription
 * ({@code osfria.webhook.max-in-flight} minus its attempts in flight here), subscriptions in turn.
 *
 * <p>An attempt is fenced by its claim's lease: it is sent only while its lease outlasts its time-out (else it renews
 * the lease first, and is not sent if the delivery was taken over meanwhile), and its outcome is written only if the
 * row still holds that lease. An attempt that outlived its lease
 * (a paused JVM, queued checks) may have been claimed again meanwhile: its outcome is dropped, the newer attempt owns
 * the delivery.
 */
@ApplicationScoped
public class DeliverySender {

    public static final String PUBLIC_EVENTS_OUT = "public-events-out";
    /** Most deliveries one claim takes, all subscriptions together. */
    private static final int BATCH = 200;
    /** Most outcomes one write records. */
    private static final int RECORD_BATCH = 1_000;
    private static final int MAX_OPENED_KEYS = 10_000;

    /** A claimed delivery, with the lease its claim set: only that claim's attempt may end it. */
    private record Due(String id, String subscriptionId, String owner, String url, String secretSealed, boolean active,
                       String eventType, String body, int attempts, OffsetDateTime lease) {
        Due withLease(OffsetDateTime renewed) {
            return new Due(id, subscriptionId, owner, url, secretSealed, active, eventType, body, attempts, renewed);
        }
    }

    /** A delivery and what its attempt gave. */
    private record Sent(Due due, Outcome outcome) {
    }

    private final Pool db;
    private final WebhookConfig config;
    private final SecretBox secrets;
    private final TargetPolicy targets;
    private final MutinyEmitter<String> events;
    private final WebhookHttp http;
    private final MeterRegistry metrics;
    private final Timer attemptTimer;
    private final Counter outcomesDropped;
    private final Counter givenBackCount;
    private final Counter renewedCount;
    private final int cap;
    /** Free slots a saturated subscription waits for before it claims again. */
    private final int refill;

    /** Attempts in flight on this replica, per subscription. */
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger running = new AtomicInteger();
    /** Subscriptions whose last claim took every free slot it asked for: more may be due, claim again when slots free up. */
    private final Set<String> saturated = ConcurrentHashMap.newKeySet();
    /** Where the next claim starts, so that every subscription gets its turn when there are more than a claim takes. */
    private volatile String cursor = "";
    /**
     * Per subscription, when the last delivery claimed for it was due: while it has attempts in flight here, its next
     * claim resumes there (ties included) instead of walking its due index from the oldest entry past every attempt
     * still in flight (each a visit of the table, which made the claim PostgreSQL's largest cost). What became due
     * behind the mark (a delivery whose lease ran out or that another replica let go, an intake that committed after a
     * later one, a row another claim had locked) the poll tick's full walk finds, within
     * {@code osfria.webhook.poll-interval}.
     */
    private final Map<String, OffsetDateTime> claimedUpTo = new ConcurrentHashMap<>();
    /** The next claim walks every subscription's due deliveries from the oldest: set by the poll tick. */
    private final AtomicBoolean fullWalk = new AtomicBoolean(true);
    private final AtomicBoolean claiming = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();
    /** Ended attempts waiting to be written; one writer at a time takes everything that has ended meanwhile. */
    private final Queue<Sent> ended = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean recording = new AtomicBoolean();
    /** Subscription id → its opened signing key, with the sealed text it was opened from. */
    private final Map<String, OpenedKey> openedKeys = new ConcurrentHashMap<>();
    private volatile boolean stopping;
    private final AudienceCheck audience;

    public DeliverySender(Pool db, WebhookConfig config, SecretBox secrets, TargetPolicy targets, Vertx vertx,
                          MeterRegistry metrics, @Channel(PUBLIC_EVENTS_OUT) MutinyEmitter<String> events,
                          AudienceCheck audience) {
        if (config.lease().compareTo(config.timeout()) <= 0) {
            // no attempt would ever have its time-out left of its lease: nothing would be sent
            throw new IllegalArgumentException("osfria.webhook.lease (" + config.lease() + ") must be longer than"
                    + " osfria.webhook.timeout (" + config.timeout() + ")");
        }
        this.db = db;
        this.audience = audience;
        this.config = config;
        this.secrets = secrets;
        this.targets = targets;
        this.events = events;
        this.metrics = metrics;
        this.cap = Math.max(1, config.maxInFlight());
        this.refill = Math.max(1, cap / 4);
        this.http = new WebhookHttp(vertx.getDelegate(), config.timeout(), cap);
        this.attemptTimer = Timer.builder("osfria.webhook.attempt").description("one delivery attempt")
                .publishPercentileHistogram().register(metrics);
        this.outcomesDropped = metrics.counter("osfria.webhook.outcomes.dropped");
        this.givenBackCount = metrics.counter("osfria.webhook.given.back");
        this.renewedCount = metrics.counter("osfria.webhook.leases.renewed");
    }

    @Scheduled(every = "${osfria.webhook.poll-interval}", delayed = "2s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> tick() {
        fullWalk.set(true);
        wake();
        return Uni.createFrom().voidItem();
    }

    /**
     * Claims what is due now and starts it. One claim runs at a time; a call meanwhile makes it claim again when it
     * ends, and so does a claim cut short by its size.
     */
    public void wake() {
        if (stopping) {
            return;
        }
        if (!claiming.compareAndSet(false, true)) {
            again.set(true);
            return;
        }
        if (stopping) { // stop() began between the first check and the claim: it may have seen no claim running
            claiming.set(false);
            return;
        }
        again.set(false);
        claim().subscribe().with(claimed -> {
            claiming.set(false);
            // Claimed again at once only if this claim stopped at its size or was woken meanwhile (claiming again
            // after every claim that found something cost a claim per few deliveries, PostgreSQL's largest cost). A
            // subscription that got all the slots it asked for is claimed for again by the attempt that frees enough
            // of them; what a claim could not see (behind a mark, locked by another claim) the poll tick finds.
            if (claimed >= BATCH || again.get()) {
                wake();
            }
        }, e -> {
            claiming.set(false);
            Log.warnf("claiming deliveries failed, will retry: %s", e.getMessage());
        });
    }

    /**
     * On shutdown, claims nothing more and waits for the attempts under way to end and be recorded: a delivery that
     * left must not be sent again by the next instance (which a crash, unlike a restart, cannot avoid).
     */
    void stop(@jakarta.enterprise.event.Observes io.quarkus.runtime.ShutdownEvent event) {
        stopping = true;
        long until = System.nanoTime() + config.timeout().toNanos() + 5_000_000_000L;
        try {
            while (claiming.get() || running.get() > 0 || !ended.isEmpty() || recording.get()) {
                if (System.nanoTime() > until) {
                    Log.warn("delivery attempts still running at shutdown: their deliveries will be sent again when their lease ends");
                    break;
                }
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        http.close();
    }

    /**
     * Leases due deliveries, at most each subscription's free slots (none while fewer than {@link #refill} are free),
     * and starts an attempt for each.
     */
    private Uni<Integer> claim() {
        if (fullWalk.getAndSet(false)) {
            claimedUpTo.clear(); // marks of subscriptions since deleted or idle go too
        }
        List<String> busy = new ArrayList<>();
        List<Integer> free = new ArrayList<>();
        List<OffsetDateTime> after = new ArrayList<>();
        inFlight.forEach((subscription, n) -> {
            int used = n.get();
            if (used > 0) {
                busy.add(subscription);
                after.add(claimedUpTo.get(subscription));
                if (cap - used >= refill) {
                    free.add(cap - used);
                } else { // too few free slots to be worth a claim: the attempt that frees enough wakes the sender
                    free.add(0);
                    saturated.add(subscription);
                }
            }
        });
        Instant now = Instant.now();
        return db.preparedQuery("""
                        UPDATE delivery d SET lease_until = $1 FROM subscription s
                        WHERE s.id = d.subscription_id AND d.id IN (
                          SELECT c.id FROM (
                              SELECT s.id AS sid, COALESCE(f.free, $5) AS free, COALESCE(f.after, '-infinity') AS after FROM subscription s
                                LEFT JOIN unnest($3::varchar[], $4::int[], $8::timestamptz[]) AS f(id, free, after) ON f.id = s.id
                              WHERE COALESCE(f.free, $5) > 0
                              ORDER BY s.id <= $6, s.id) t
                            CROSS JOIN LATERAL (
                              SELECT id FROM delivery WHERE subscription_id = t.sid AND status = 'PENDING'
                                AND next_attempt_at >= t.after AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
                              ORDER BY next_attempt_at LIMIT t.free FOR UPDATE SKIP LOCKED) c
                          LIMIT $7)
                        RETURNING d.id, d.subscription_id, s.owner, s.url, s.secret_sealed, s.active, d.event_type, d.body,
                          d.attempts, d.lease_until, d.next_attempt_at""")
                .execute(Tuple.tuple(List.of(at(now.plus(config.lease())), at(now), busy.toArray(String[]::new),
                        free.toArray(Integer[]::new), cap, cursor, BATCH, after.toArray(OffsetDateTime[]::new))))
                .map(rows -> {
                    List<Due> claimed = new ArrayList<>();
                    Map<String, Integer> taken = new HashMap<>();
                    Map<String, OffsetDateTime> last = new HashMap<>();
                    for (Row r : rows) {
                        Due d = due(r);
                        claimed.add(d);
                        taken.merge(d.subscriptionId(), 1, Integer::sum);
                        last.merge(d.subscriptionId(), r.getOffsetDateTime("next_attempt_at"), (a, b) -> a.isAfter(b) ? a : b);
                    }
                    // the walk began at the mark or, for a subscription with nothing in flight here, at its oldest
                    // delivery: what it took last is where the next one begins, whatever an older mark said
                    claimedUpTo.putAll(last);
                    Map<String, Integer> asked = new HashMap<>();
                    for (int i = 0; i < busy.size(); i++) {
                        asked.put(busy.get(i), free.get(i));
                    }
                    // took all it asked for: more may be due, claimed again when its attempts free enough slots. Marked
                    // before the attempts start: one that ends at once (an inactive subscription's) must find the mark
                    taken.forEach((subscription, n) -> {
                        if (n >= asked.getOrDefault(subscription, cap)) {
                            saturated.add(subscription);
                        }
                    });
                    claimed.forEach(this::start);
                    cursor = lastServed(taken.keySet(), cursor);
                    return rows.rowCount();
                });
    }

    /** The last subscription served in the claim's order (after the cursor, then from the start): the next claim starts after it. */
    private static String lastServed(Set<String> served, String cursor) {
        return served.stream().filter(id -> id.compareTo(cursor) <= 0).max(String::compareTo)
                .or(() -> served.stream().max(String::compareTo)).orElse("");
    }

    private AtomicInteger slots(String subscription) {
        return inFlight.computeIfAbsent(subscription, k -> new AtomicInteger());
    }

    private void start(Due d) {
        slots(d.subscriptionId()).incrementAndGet();
        running.incrementAndGet();
        attempt(d).onFailure().recoverWithItem(e -> {
                    Log.warnf("delivery attempt %s failed unexpectedly: %s", d.id(), e.toString());
                    return new Sent(d, Outcome.failed(Outcome.CONNECTION_FAILED, 0));
                })
                .subscribe().with(sent -> ended(sent.due(), sent.outcome()));
    }

    /**
     * An attempt ended: its slot is free at once; once a quarter of the subscription's slots are free they are taken
     * again at once if more are due (claims run one at a time, so slots freed meanwhile are filled together). Claiming
     * slot by slot cost a claim, each scanning past the leased rows, for every one or two attempts, and kept most slots
     * empty while the claims queued. The outcome is written with whatever else ended meanwhile.
     */
    private void ended(Due d, Outcome outcome) {
        int inFlight = slots(d.subscriptionId()).decrementAndGet();
        // queued before it stops counting as running: stop() must never see it in neither (its HTTP client would be
        // closed under attempts still to be recorded, and every one of them sent again by the next instance)
        ended.add(new Sent(d, outcome));
        running.decrementAndGet();
        record();
        if (cap - inFlight >= refill && saturated.remove(d.subscriptionId())) {
            wake();
        }
    }

    /**
     * The one place where a claimed delivery is picked to go out: every attempt passes here, so a check that the
     * delivery may still be sent belongs here.
     */
    private Uni<Sent> attempt(Due d) {
        if (!d.active()) {
            return Uni.createFrom().item(new Sent(d, Outcome.failed(Outcome.INACTIVE, 0)));
        }
        return audience.refusal(d.subscriptionId(), d.eventType(), d.body()).chain(withheld -> withheld != null
                ? Uni.createFrom().item(new Sent(d, Outcome.withheld(withheld)))
                : checkedAndSent(d));
    }

    /** The target checked, then the attempt sent; refused, it lasted the check (a lookup time-out waits its deadline). */
    private Uni<Sent> checkedAndSent(Due d) {
        long start = System.nanoTime();
        return targets.check(d.url(), d.owner()).chain(target -> !target.allowed()
                ? Uni.createFrom().item(new Sent(d, Outcome.refused(target, (System.nanoTime() - start) / 1_000_000)))
                : leaseOutlastsAttempt(d) ? send(d, target).map(outcome -> new Sent(d, outcome))
                : renewed(d).chain(r -> r == null
                        ? Uni.createFrom().item(new Sent(d, Outcome.takenOver()))
                        : send(r, target).map(outcome -> new Sent(r, outcome))));
    }

    /**
     * A fresh lease for an attempt whose checks took most of its own (a slow resolver, a queue of checks, a paused JVM):
     * sent late rather than given back to be claimed, checked and given back again for as long as the checks stay
     * slow. Null when the delivery is no longer this claim's (taken over meanwhile): then it is not sent.
     */
    private Uni<Due> renewed(Due d) {
        renewedCount.increment();
        return db.preparedQuery("UPDATE delivery SET lease_until = $3 WHERE id = $1 AND lease_until = $2 RETURNING lease_until")
                .execute(Tuple.of(d.id(), d.lease(), at(Instant.now().plus(config.lease()))))
                .map(rows -> rows.rowCount() == 0 ? null : d.withLease(rows.iterator().next().getOffsetDateTime("lease_until")));
    }

    /**
     * Whether the attempt, started now, ends (at its time-out) before its lease does. The checks before it can queue
     * (a slow audience check, a slow resolver, a paused JVM): an attempt still running when its lease ends may be
     * claimed again, by another replica or this one, and the receiver would get it twice at once.
     */
    private boolean leaseOutlastsAttempt(Due d) {
        return !Instant.now().plus(config.timeout()).isAfter(d.lease().toInstant());
    }

    private Uni<Outcome> send(Due d, TargetPolicy.Target target) {
        String signedBody;
        byte[] key;
        try {
            key = signingKey(d);
            signedBody = Signatures.withBodySignature(key, d.body());
        } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
            Log.warnf("the secret of subscription %s cannot be opened: %s", d.subscriptionId(), e.toString());
            return Uni.createFrom().item(Outcome.failed(Outcome.SECRET_UNAVAILABLE, 0));
        }
        long timestamp = Instant.now().getEpochSecond();
        MultiMap headers = MultiMap.caseInsensitiveMultiMap()
                .add(HttpHeaders.CONTENT_TYPE, "application/json")
                .add(HttpHeaders.USER_AGENT, "Osfria-Webhooks/1")
                .add("webhook-id", d.id())
                .add("webhook-timestamp", String.valueOf(timestamp))
                .add("webhook-signature", Signatures.standard(key, d.id(), timestamp, signedBody))
                .add("X-Osfria-Signature", Signatures.github(key, signedBody))
                .add("X-Osfria-Event", d.eventType());
        return http.post(target, headers, Buffer.buffer(signedBody));
    }

    /**
     * The subscription's signing key, opened once per sealed secret rather than once per attempt (deriving the
     * sealing key and opening AES-GCM cost a tenth of the service's CPU): a secret changed by a {@code PUT}, or
     * re-sealed under another KEK, is another sealed text and is opened again.
     */
    private byte[] signingKey(Due d) throws java.security.GeneralSecurityException {
        OpenedKey known = openedKeys.get(d.subscriptionId());
        if (known != null && known.sealed().equals(d.secretSealed())) {
            return known.key();
        }
        byte[] key = Signatures.key(secrets.open(d.subscriptionId(), d.secretSealed()));
        if (openedKeys.size() >= MAX_OPENED_KEYS) {
            openedKeys.clear();
        }
        openedKeys.put(d.subscriptionId(), new OpenedKey(d.secretSealed(), key));
        return key;
    }

    private record OpenedKey(String sealed, byte[] key) {
    }

    /** Writes what has ended, one write at a time, each taking everything that ended meanwhile. */
    private void record() {
        if (!recording.compareAndSet(false, true)) {
            return;
        }
        List<Sent> batch = new ArrayList<>();
        for (Sent x; batch.size() < RECORD_BATCH && (x = ended.poll()) != null; ) {
            if (x.outcome().wasTakenOver()) {
                givenBackCount.increment(); // not sent, nothing to write: the delivery is the newer claim's
            } else {
                batch.add(x);
            }
        }
        // a write PostgreSQL ended to break a deadlock or a serialization conflict applied nothing: written again
        recordAll(batch).onFailure(DatabaseConflict::ended).retry().atMost(3).subscribe().with(ok -> {
            recording.set(false);
            if (!ended.isEmpty()) {
                record();
            }
        }, e -> {
            // left leased: sent again once the lease runs out (at least once), with the same webhook-id
            Log.warnf("recording %d delivery attempts failed: %s", batch.size(), e.getMessage());
            recording.set(false);
            if (!ended.isEmpty()) {
                record();
            }
        });
    }

    private static Due due(Row r) {
        return new Due(r.getString("id"), r.getString("subscription_id"), r.getString("owner"), r.getString("url"),
                r.getString("secret_sealed"),
                r.getBoolean("active"), r.getString("event_type"), r.getString("body"), r.getInteger("attempts"),
                r.getOffsetDateTime("lease_until"));
    }

    /**
     * Writes outcomes, all of them in one statement whatever their number and kind: a black-holed receiver's
     * time-outs or a dead one's exhaustions must not hold up the recording of everyone else's attempts, and one round
     * trip per write (not a transaction of four) keeps the writer from setting the pace. The statement updates the
     * deliveries, adds their failed attempts (a success stays on its delivery's row: an attempt row, its index entries
     * and its foreign-key check were a third of the write) and notes on each subscription its failures or its success: retried on the
     * schedule (or after {@code Retry-After}), exhausted after the last attempt (and {@code webhook.exhausted}
     * published), failed at once on {@code 410 Gone}, which disables the subscription, or when the subscription was
     * deactivated meanwhile; a subscription whose deliveries have failed with no success for
     * {@code osfria.webhook.disable-after} is disabled. An attempt is recorded only with its delivery: the outcome of
     * one whose subscription was deleted meanwhile (its deliveries with it) is dropped, and must not fail the write of
     * the others, which would then be sent again once their lease ran out.
     */
    private Uni<Void> recordAll(List<Sent> batch) {
        if (batch.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        List<Duration> schedule = config.retrySchedule();
        int n = batch.size();
        String[] ids = new String[n];
        OffsetDateTime[] leases = new OffsetDateTime[n];
        String[] statuses = new String[n];
        OffsetDateTime[] next = new OffsetDateTime[n];
        Integer[] codes = new Integer[n];
        String[] reasons = new String[n];
        String[] errors = new String[n];
        Integer[] durations = new Integer[n];
        // in id order: two replicas noting the same failing subscriptions lock their rows in the same order (a
        // deadlock would abort one outcome write, and its deliveries would be sent again when their lease ends)
        Map<String, SubscriptionNote> notes = new java.util.TreeMap<>();
        List<Sent> exhausted = new ArrayList<>();
        String[] counted = new String[n]; // the outcome the deliveries' counter gives it, if written
        Instant now = Instant.now();
        for (int i = 0; i < n; i++) {
            Sent x = batch.get(i);
            Outcome o = x.outcome();
            ids[i] = x.due().id();
            leases[i] = x.due().lease();
            codes[i] = o.statusCode();
            durations[i] = (int) o.durationMs();
            if (o.success()) {
                statuses[i] = "DELIVERED";
                counted[i] = "delivered";
                attemptTimer.record(Duration.ofMillis(o.durationMs()));
                notes.computeIfAbsent(x.due().subscriptionId(), k -> new SubscriptionNote()).succeeded = true;
                continue;
            }
            reasons[i] = o.reason();
            errors[i] = o.error();
            if (o.inactive() || o.withheld()) { // nothing was sent: no failure of the receiver's
                statuses[i] = o.withheld() ? "SKIPPED" : "FAILED";
                continue;
            }
            attemptTimer.record(Duration.ofMillis(o.durationMs()));
            SubscriptionNote note = notes.computeIfAbsent(x.due().subscriptionId(), k -> new SubscriptionNote());
            note.failed = true;
            if (o.status() == 410) {
                statuses[i] = "FAILED";
                note.gone = true;
                counted[i] = "gone";
            } else if (x.due().attempts() >= schedule.size()) {
                statuses[i] = "EXHAUSTED";
                exhausted.add(x);
                counted[i] = "exhausted";
            } else {
                statuses[i] = "PENDING";
                counted[i] = "retry";
                Duration delay = jitter(schedule.get(x.due().attempts()));
                next[i] = at(now.plus(o.retryAfter() != null && o.retryAfter().compareTo(delay) > 0 ? o.retryAfter() : delay));
            }
        }
        String[] subscriptions = notes.keySet().toArray(String[]::new);
        Boolean[] succeeded = new Boolean[subscriptions.length];
        Boolean[] failed = new Boolean[subscriptions.length];
        Boolean[] disabledGone = new Boolean[subscriptions.length];
        for (int i = 0; i < subscriptions.length; i++) {
            SubscriptionNote note = notes.get(subscriptions[i]);
            succeeded[i] = note.succeeded;
            failed[i] = note.failed;
            disabledGone[i] = note.gone;
        }
        // failing_since as the successes of this write leave it (a success clears it; failures in the same write then
        // start it again, as if they had ended after the successes)
        String failingSince = "CASE WHEN u.succeeded THEN NULL ELSE s.failing_since END";
        return db.preparedQuery("""
                        WITH v AS (SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::timestamptz[], $4::int[], $5::text[],
                            $6::int[], $7::text[], $15::timestamptz[]) AS v(id, status, next, code, reason, ms, error, lease)),
                        done AS (
                          UPDATE delivery d SET status = v.status, attempts = d.attempts + 1,
                            next_attempt_at = COALESCE(v.next, d.next_attempt_at), lease_until = NULL,
                            last_status = v.code, last_error = v.reason, last_duration_ms = v.ms,
                            finished_at = CASE WHEN v.status = 'PENDING' THEN NULL ELSE $8::timestamptz END
                          FROM v WHERE d.id = v.id AND d.lease_until = v.lease RETURNING d.id, v.lease),
                        attempt AS (
                          INSERT INTO delivery_attempt (delivery_id, attempted_at, status_code, duration_ms, error)
                          SELECT v.id, $8, v.code, v.ms, v.error FROM v JOIN done ON done.id = v.id AND done.lease = v.lease
                          WHERE v.status <> 'DELIVERED'),
                        noted AS (
                          UPDATE subscription s SET
                            failing_since = CASE WHEN u.failed THEN COALESCE(%1$s, $8) ELSE %1$s END,
                            active = CASE WHEN u.gone OR (u.failed AND COALESCE(%1$s, $8) < $9) THEN false ELSE s.active END,
                            disabled_reason = CASE WHEN u.gone THEN $13
                              WHEN u.failed AND COALESCE(%1$s, $8) < $9 THEN 'disabled: every delivery failed since '
                                || to_char(COALESCE(%1$s, $8), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                              ELSE s.disabled_reason END,
                            updated_at = CASE WHEN u.gone THEN $8 ELSE s.updated_at END
                          FROM unnest($10::varchar[], $11::boolean[], $12::boolean[], $14::boolean[]) AS u(id, succeeded, failed, gone)
                          WHERE s.id = u.id AND (u.failed OR s.failing_since IS NOT NULL))
                        SELECT ARRAY (SELECT id FROM done ORDER BY id, lease) AS ids, ARRAY (SELECT lease FROM done ORDER BY id, lease) AS leases"""
                        .formatted(failingSince))
                .execute(Tuple.from(List.of(ids, statuses, next, codes, reasons, durations, errors, at(now),
                        at(now.minus(config.disableAfter())), subscriptions, succeeded, failed,
                        "disabled: the receiver answered 410 Gone at " + now, disabledGone, leases)))
                .chain(rows -> {
                    // what was written, by delivery and lease: one delivery may end twice in a batch (an attempt that
                    // outlived its lease and the newer one), and only the one whose lease the row still held counts
                    Row r = rows.iterator().next();
                    String[] recordedIds = r.getArrayOfStrings("ids");
                    OffsetDateTime[] recordedLeases = r.getArrayOfOffsetDateTimes("leases");
                    Set<String> recorded = new java.util.HashSet<>();
                    for (int i = 0; i < recordedIds.length; i++) {
                        recorded.add(recordedIds[i] + "@" + recordedLeases[i].toInstant());
                    }
                    java.util.function.Predicate<Sent> written = x -> recorded.contains(x.due().id() + "@" + x.due().lease().toInstant());
                    dropped(n - recorded.size());
                    Map<String, Integer> outcomes = new HashMap<>();
                    for (int i = 0; i < n; i++) {
                        if (counted[i] != null && written.test(batch.get(i))) {
                            outcomes.merge(counted[i], 1, Integer::sum);
                        }
                    }
                    outcomes.forEach((outcome, count) -> metrics.counter("osfria.webhook.deliveries", "outcome", outcome).increment(count));
                    return announce(exhausted.stream().filter(written).toList());
                });
    }

    /**
     * Outcomes that found their delivery no longer under their attempt's lease: the attempt outlived its lease and
     * the delivery was claimed again (the newer attempt owns the row), or it was replayed, ended by the retention or
     * deleted meanwhile. Nothing of theirs is written to the delivery (no attempt row, not counted, not announced);
     * what the receiver answered still counts for its subscription (a success clears its failing state, a 410 disables
     * it): the attempt did reach it.
     */
    private void dropped(long count) {
        if (count > 0) {
            outcomesDropped.increment(count);
            Log.infof("%d delivery outcomes dropped: their lease had been taken over, or their delivery ended or deleted, meanwhile", count);
        }
    }

    /** What one write tells a subscription: a success, a failure of the receiver's, a {@code 410 Gone}. */
    private static final class SubscriptionNote {
        boolean succeeded;
        boolean failed;
        boolean gone;
    }

    /** {@code webhook.exhausted} for each exhausted delivery, with the coarse reason; sent together, not one after another. */
    private Uni<Void> announce(List<Sent> exhausted) {
        List<Uni<Void>> sends = exhausted.stream().filter(x -> !EventTypes.WEBHOOK_EXHAUSTED.equals(x.due().eventType()))
                .map(x -> events.sendMessage(exhausted(x.due().subscriptionId(), x.due().id(), x.due().eventType(),
                        x.due().attempts() + 1, x.outcome().reason())))
                .toList();
        return sends.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(sends).andCollectFailures().replaceWithVoid()
                .onFailure().recoverWithUni(e -> { // the deliveries are recorded; only the announcement is lost
                    Log.warnf("webhook.exhausted could not be published: %s", e.getMessage());
                    return Uni.createFrom().voidItem();
                });
    }

    /** The {@code webhook.exhausted} message of a delivery that ended after {@code attempts} attempts, for {@code reason}. */
    public static org.eclipse.microprofile.reactive.messaging.Message<String> exhausted(String subscription, String delivery,
                                                                                       String eventType, int attempts, String reason) {
        return EventMessages.of(CloudEvent.of("/osfria/webhook-service", EventTypes.WEBHOOK_EXHAUSTED, subscription,
                new WebhookExhausted(subscription, delivery, eventType, attempts, reason)));
    }

    private static Duration jitter(Duration base) {
        long ms = base.toMillis();
        return Duration.ofMillis(ms + (long) (ms * 0.1 * (ThreadLocalRandom.current().nextDouble() * 2 - 1)));
    }

    private static OffsetDateTime at(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
