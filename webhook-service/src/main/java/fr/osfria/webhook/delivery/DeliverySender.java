package fr.osfria.webhook.delivery;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventTypes;
import fr.osfria.events.webhook.WebhookExhausted;
import fr.osfria.security.messaging.EventMessages;
import fr.osfria.webhook.WebhookConfig;
import fr.osfria.webhook.signing.Signatures;
import fr.osfria.webhook.subscription.SecretBox;
import fr.osfria.webhook.subscription.TargetPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.ext.web.client.HttpResponse;
import io.vertx.mutiny.ext.web.client.WebClient;
import io.vertx.mutiny.ext.web.codec.BodyCodec;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * Sends due deliveries. A delivery is claimed with a lease (row lock, SKIP LOCKED) so that replicas never send it
 * at the same time, sent with no lock held, and its outcome recorded with the attempt: delivered, retried later on
 * the schedule (or after the receiver's {@code Retry-After}), exhausted, or failed because the receiver answered
 * {@code 410 Gone}, which also disables the subscription.
 */
@ApplicationScoped
public class DeliverySender {

    public static final String PUBLIC_EVENTS_OUT = "public-events-out";
    private static final int BATCH = 200;

    private record Due(String id, String subscriptionId, String url, String secretSealed, boolean active, String eventType,
                       String body, int attempts) {
    }

    /** A delivery and what its attempt gave. */
    private record Sent(Due due, Outcome outcome) {
    }

    private record Outcome(int status, long durationMs, String error, Duration retryAfter) {
        static final int INACTIVE = -1;
        static final int WITHHELD = -2;

        boolean success() {
            return status >= 200 && status < 300;
        }
    }

    private final Pool db;
    private final WebhookConfig config;
    private final SecretBox secrets;
    private final TargetPolicy targets;
    private final MutinyEmitter<String> events;
    private final WebClient http;
    private final MeterRegistry metrics;
    private final Timer attemptTimer;
    /** Rounds under way: two, so one round's HTTP calls overlap the next one's claim and writes. */
    private final java.util.concurrent.Semaphore rounds = new java.util.concurrent.Semaphore(2);
    private final AtomicBoolean again = new AtomicBoolean();
    private volatile boolean stopping;
    private final AudienceCheck audience;

    public DeliverySender(Pool db, WebhookConfig config, SecretBox secrets, TargetPolicy targets, Vertx vertx,
                          MeterRegistry metrics, @Channel(PUBLIC_EVENTS_OUT) MutinyEmitter<String> events,
                          AudienceCheck audience) {
        this.db = db;
        this.audience = audience;
        this.config = config;
        this.secrets = secrets;
        this.targets = targets;
        this.events = events;
        this.metrics = metrics;
        this.http = WebClient.create(vertx, new WebClientOptions()
                .setFollowRedirects(false) // a redirect is an answer, not an instruction to send elsewhere
                .setConnectTimeout((int) config.timeout().toMillis())
                .setMaxPoolSize(64)
                .setUserAgent("Osfria-Webhooks/1"));
        this.attemptTimer = Timer.builder("osfria.webhook.attempt").description("one delivery attempt")
                .publishPercentileHistogram().register(metrics);
    }

    @Scheduled(every = "${osfria.webhook.poll-interval}", delayed = "2s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> tick() {
        wake();
        return Uni.createFrom().voidItem();
    }

    /**
     * Sends what is due now. At most two rounds run at once (their claims never overlap: SKIP LOCKED); a call while
     * both run makes the next one to finish go again.
     */
    public void wake() {
        if (stopping) {
            return;
        }
        if (!rounds.tryAcquire()) {
            again.set(true);
            return;
        }
        round().subscribe().with(sent -> {
            rounds.release();
            if (sent == BATCH || again.getAndSet(false)) {
                wake();
            }
        }, e -> {
            rounds.release();
            Log.warnf("delivery round failed, will retry: %s", e.getMessage());
        });
    }

    /**
     * On shutdown, starts no new round and waits for the running ones to record what they sent: a delivery that
     * left must not be sent again by the next instance (which a crash, unlike a restart, cannot avoid).
     */
    void stop(@jakarta.enterprise.event.Observes io.quarkus.runtime.ShutdownEvent event) {
        stopping = true;
        try {
            if (rounds.tryAcquire(2, config.timeout().toMillis() + 5_000, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                rounds.release(2);
            } else {
                Log.warn("delivery rounds still running at shutdown: their deliveries will be sent again when their lease ends");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Uni<Integer> round() {
        Instant now = Instant.now();
        return db.withTransaction(conn -> conn.preparedQuery("""
                        UPDATE delivery SET lease_until = $1 WHERE id IN (
                          SELECT id FROM delivery WHERE status = 'PENDING' AND next_attempt_at <= $2
                            AND (lease_until IS NULL OR lease_until < $2)
                          ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
                        RETURNING id""")
                        .execute(Tuple.of(at(now.plus(config.lease())), at(now), BATCH)))
                .chain(claimed -> {
                    List<String> ids = new ArrayList<>();
                    claimed.forEach(r -> ids.add(r.getString("id")));
                    if (ids.isEmpty()) {
                        return Uni.createFrom().item(0);
                    }
                    return db.preparedQuery("""
                                    SELECT d.id, d.subscription_id, s.url, s.secret_sealed, s.active, d.event_type, d.body, d.attempts
                                    FROM delivery d JOIN subscription s ON s.id = d.subscription_id WHERE d.id = ANY($1)""")
                            .execute(Tuple.of(ids.toArray(String[]::new)))
                            .onItem().transformToMulti(rows -> Multi.createFrom().iterable(rows))
                            .map(DeliverySender::due)
                            .onItem().transformToUniAndMerge(this::attempt)
                            .collect().asList()
                            .call(this::recordAll)
                            .map(List::size);
                });
    }

    private static Due due(Row r) {
        return new Due(r.getString("id"), r.getString("subscription_id"), r.getString("url"), r.getString("secret_sealed"),
                r.getBoolean("active"), r.getString("event_type"), r.getString("body"), r.getInteger("attempts"));
    }

    private Uni<Sent> attempt(Due d) {
        if (!d.active()) {
            return Uni.createFrom().item(new Sent(d, new Outcome(Outcome.INACTIVE, 0, "the subscription is inactive", null)));
        }
        return audience.refusal(d.subscriptionId(), d.eventType(), d.body()).chain(withheld -> withheld != null
                ? Uni.createFrom().item(new Sent(d, new Outcome(Outcome.WITHHELD, 0, withheld, null)))
                : targets.check(d.url()).chain(refusal -> attempt(d, refusal)));
    }

    private Uni<Sent> attempt(Due d, String refusal) {
        String signedBody;
        byte[] key;
        try {
            key = Signatures.key(secrets.open(d.subscriptionId(), d.secretSealed()));
            signedBody = Signatures.withBodySignature(key, d.body());
        } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
            return Uni.createFrom().item(new Sent(d, new Outcome(0, 0, "the subscription's secret cannot be read: " + e.getMessage(), null)));
        }
        if (refusal != null) {
            return Uni.createFrom().item(new Sent(d, new Outcome(0, 0, "target refused: " + refusal, null)));
        }
        long timestamp = Instant.now().getEpochSecond();
        long start = System.nanoTime();
        return http.postAbs(d.url())
                .timeout(config.timeout().toMillis())
                .putHeader(HttpHeaders.CONTENT_TYPE.toString(), "application/json")
                .putHeader("webhook-id", d.id())
                .putHeader("webhook-timestamp", String.valueOf(timestamp))
                .putHeader("webhook-signature", Signatures.standard(key, d.id(), timestamp, signedBody))
                .putHeader("X-Osfria-Signature", Signatures.github(key, signedBody))
                .putHeader("X-Osfria-Event", d.eventType())
                .as(BodyCodec.none()) // the answer's body is not read: a receiver cannot make us hold 10 MB
                .sendBuffer(io.vertx.mutiny.core.buffer.Buffer.buffer(signedBody))
                .map(response -> new Outcome(response.statusCode(), elapsed(start), null, retryAfter(response)))
                .onFailure().recoverWithItem(e -> new Outcome(0, elapsed(start), describe(e), null))
                .map(outcome -> new Sent(d, outcome));
    }

    /**
     * Writes a round's outcomes: every success of the round in three statements (the common case, and the one
     * throughput depends on), the rest one by one.
     */
    private Uni<Void> recordAll(List<Sent> round) {
        List<Sent> delivered = round.stream().filter(x -> x.outcome().success()).toList();
        List<Sent> others = round.stream().filter(x -> !x.outcome().success()).toList();
        Uni<Void> bulk = Uni.createFrom().voidItem();
        if (!delivered.isEmpty()) {
            String[] ids = delivered.stream().map(x -> x.due().id()).toArray(String[]::new);
            Integer[] codes = delivered.stream().map(x -> x.outcome().status()).toArray(Integer[]::new);
            Integer[] durations = delivered.stream().map(x -> (int) x.outcome().durationMs()).toArray(Integer[]::new);
            String[] subscriptions = delivered.stream().map(x -> x.due().subscriptionId()).distinct().toArray(String[]::new);
            delivered.forEach(x -> attemptTimer.record(Duration.ofMillis(x.outcome().durationMs())));
            OffsetDateTime now = at(Instant.now());
            bulk = db.withTransaction(conn -> conn.preparedQuery("""
                            UPDATE delivery d SET status = 'DELIVERED', attempts = d.attempts + 1, lease_until = NULL,
                              last_status = v.code, last_error = NULL, finished_at = $3
                            FROM unnest($1::varchar[], $2::int[]) AS v(id, code) WHERE d.id = v.id""")
                    .execute(Tuple.of(ids, codes, now))
                    .chain(() -> conn.preparedQuery("""
                            INSERT INTO delivery_attempt (delivery_id, attempted_at, status_code, duration_ms)
                            SELECT id, $4, code, ms FROM unnest($1::varchar[], $2::int[], $3::int[]) AS v(id, code, ms)""")
                            .execute(Tuple.of(ids, codes, durations, now)))
                    .chain(() -> conn.preparedQuery("UPDATE subscription SET failing_since = NULL WHERE id = ANY($1) AND failing_since IS NOT NULL")
                            .execute(Tuple.of(subscriptions)))
                    .replaceWithVoid())
                    .invoke(() -> metrics.counter("osfria.webhook.deliveries", "outcome", "delivered").increment(delivered.size()));
        }
        return bulk.chain(() -> others.isEmpty() ? Uni.createFrom().voidItem() : Multi.createFrom().iterable(others)
                .onItem().transformToUniAndConcatenate(x -> switch (x.outcome().status()) {
                    case Outcome.INACTIVE -> finish(x.due(), "FAILED", null, 0, x.outcome().error());
                    case Outcome.WITHHELD -> finish(x.due(), "SKIPPED", null, 0, x.outcome().error());
                    default -> record(x.due(), x.outcome());
                })
                .collect().last().replaceWithVoid());
    }

    private Uni<Void> record(Due d, Outcome o) {
        attemptTimer.record(Duration.ofMillis(o.durationMs()));
        int attempts = d.attempts() + 1;
        String error = o.error() != null ? o.error() : "the receiver answered " + o.status();
        if (o.status() == 410) {
            metrics.counter("osfria.webhook.deliveries", "outcome", "gone").increment();
            return finish(d, "FAILED", 410, o.durationMs(), error)
                    .chain(() -> db.preparedQuery("UPDATE subscription SET active = false, disabled_reason = $2, updated_at = $3 WHERE id = $1")
                            .execute(Tuple.of(d.subscriptionId(), "disabled: the receiver answered 410 Gone at " + Instant.now(), at(Instant.now())))
                            .replaceWithVoid());
        }
        return noteFailure(d).chain(() -> retryOrExhaust(d, o, attempts, error));
    }

    /**
     * Remembers since when the subscription fails, and disables it once that has lasted
     * {@code osfria.webhook.disable-after} with no success in between.
     */
    private Uni<Void> noteFailure(Due d) {
        Instant now = Instant.now();
        return db.preparedQuery("""
                        UPDATE subscription SET failing_since = COALESCE(failing_since, $2),
                          active = CASE WHEN COALESCE(failing_since, $2) < $3 THEN false ELSE active END,
                          disabled_reason = CASE WHEN COALESCE(failing_since, $2) < $3
                            THEN 'disabled: every delivery failed since ' || to_char(COALESCE(failing_since, $2), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                            ELSE disabled_reason END
                        WHERE id = $1""")
                .execute(Tuple.of(d.subscriptionId(), at(now), at(now.minus(config.disableAfter()))))
                .replaceWithVoid();
    }

    private Uni<Void> retryOrExhaust(Due d, Outcome o, int attempts, String error) {
        List<Duration> schedule = config.retrySchedule();
        if (attempts > schedule.size()) {
            metrics.counter("osfria.webhook.deliveries", "outcome", "exhausted").increment();
            return finish(d, "EXHAUSTED", o.status() == 0 ? null : o.status(), o.durationMs(), error)
                    .call(() -> EventTypes.WEBHOOK_EXHAUSTED.equals(d.eventType()) ? Uni.createFrom().voidItem()
                            : events.sendMessage(EventMessages.of(CloudEvent.of("/osfria/webhook-service", EventTypes.WEBHOOK_EXHAUSTED,
                            d.subscriptionId(), new WebhookExhausted(d.subscriptionId(), d.id(), d.eventType(), attempts, error)))));
        }
        metrics.counter("osfria.webhook.deliveries", "outcome", "retry").increment();
        Duration delay = jitter(schedule.get(attempts - 1));
        if (o.retryAfter() != null && o.retryAfter().compareTo(delay) > 0) {
            delay = o.retryAfter();
        }
        Instant next = Instant.now().plus(delay);
        return db.withTransaction(conn -> conn.preparedQuery("""
                        UPDATE delivery SET attempts = $2, next_attempt_at = $3, lease_until = NULL, last_status = $4, last_error = $5
                        WHERE id = $1""").execute(Tuple.of(d.id(), attempts, at(next), o.status() == 0 ? null : o.status(), error))
                .chain(() -> attemptRow(conn, d.id(), o.status(), o.durationMs(), error)));
    }

    private Uni<Void> finish(Due d, String status, Integer code, long durationMs, String error) {
        Instant now = Instant.now();
        return db.withTransaction(conn -> conn.preparedQuery("""
                        UPDATE delivery SET status = $2, attempts = attempts + 1, lease_until = NULL, last_status = $3,
                          last_error = $4, finished_at = $5 WHERE id = $1""")
                .execute(Tuple.of(d.id(), status, code, error, at(now)))
                .chain(() -> attemptRow(conn, d.id(), code == null ? 0 : code, durationMs, error)));
    }

    private static Uni<Void> attemptRow(io.vertx.mutiny.sqlclient.SqlConnection conn, String id, int status, long durationMs, String error) {
        return conn.preparedQuery("INSERT INTO delivery_attempt (delivery_id, attempted_at, status_code, duration_ms, error) VALUES ($1, $2, $3, $4, $5)")
                .execute(Tuple.of(id, at(Instant.now()), status == 0 ? null : status, (int) durationMs, error)).replaceWithVoid();
    }

    private static Duration jitter(Duration base) {
        long ms = base.toMillis();
        return Duration.ofMillis(ms + (long) (ms * 0.1 * (ThreadLocalRandom.current().nextDouble() * 2 - 1)));
    }

    /** {@code Retry-After} in seconds (the HTTP-date form is rare for webhooks and is read as no advice). */
    private static Duration retryAfter(HttpResponse<?> response) {
        String value = response.getHeader("Retry-After");
        if (value == null) {
            return null;
        }
        try {
            return Duration.ofSeconds(Math.min(Long.parseLong(value.trim()), 86_400));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String describe(Throwable e) {
        String name = e.getClass().getSimpleName();
        if (name.contains("Timeout")) {
            return "no answer within the time-out";
        }
        return "connection failed: " + (e.getMessage() == null ? name : e.getMessage());
    }

    private static long elapsed(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static OffsetDateTime at(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
