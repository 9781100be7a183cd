package fr.osfria.router.batch;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.app.InferenceResult;
import fr.osfria.events.usage.UsageRecord;
import fr.osfria.router.RouterConfig;
import fr.osfria.router.backend.Backend;
import fr.osfria.router.backend.BackendPool;
import fr.osfria.router.balance.Dispatcher;
import fr.osfria.router.metrics.RouterMetrics;
import fr.osfria.router.proxy.CompletionRequest;
import fr.osfria.router.usage.UsageLedger;
import fr.osfria.router.usage.UsageRecorder;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Runs batch requests of Kafka applications on the backends' spare capacity only ({@link Dispatcher#acquireSpare}),
 * with the producing application's key: its daily/monthly quotas (a request over quota is answered with an error)
 * and its usage (recorded under its name, as an interactive request's). Requests wait here, in arrival order, until
 * a backend has room for them; the lane is looked at again whenever any request ends and every
 * {@link #PUMP_MILLIS} ms (vLLM's own load, read by the probes, changes without a release). Per-minute rate limits
 * are left to interactive traffic: batch work is paced by spare capacity instead. Whatever happens, each request's
 * future completes with an answer: the response, or an error.
 */
@ApplicationScoped
public class BatchRunner {

    static final long PUMP_MILLIS = 50;
    /** How long a request waits before it is looked at again while its key or the quota totals are not known yet. */
    static final long NOT_READY_MILLIS = 500;
    private static final Set<Integer> RETRYABLE = Set.of(429, 502, 503, 504);

    private final RouterConfig config;
    private final Vertx vertx;
    private final BackendPool pool;
    private final Dispatcher dispatcher;
    private final KeyRegistry keys;
    private final UsageLedger ledger;
    private final UsageRecorder usage;
    private final RouterMetrics metrics;
    private final Optional<String> backendApiKey;
    /** Requests waiting for spare capacity, oldest first. */
    private final LinkedHashSet<Call> waiting = new LinkedHashSet<>();
    /** The load under which a backend takes batch work: never more than half its slots, the rest is interactive. */
    private final int maxLoad;
    private volatile HttpClient client;
    private long pumpTimer = -1;

    public BatchRunner(RouterConfig config, Vertx vertx, BackendPool pool, Dispatcher dispatcher, KeyRegistry keys,
                       UsageLedger ledger, UsageRecorder usage, RouterMetrics metrics,
                       @ConfigProperty(name = "osfria.router.backend-api-key") Optional<String> backendApiKey,
                       io.micrometer.core.instrument.MeterRegistry meters) {
        this.config = config;
        this.vertx = vertx;
        this.pool = pool;
        this.dispatcher = dispatcher;
        this.keys = keys;
        this.ledger = ledger;
        this.usage = usage;
        this.metrics = metrics;
        this.backendApiKey = backendApiKey.filter(k -> !k.isBlank());
        this.maxLoad = Math.max(1, Math.min(config.batch().maxLoadPerBackend(),
                config.admission().maxInFlightPerBackend() / 2));
        io.micrometer.core.instrument.Gauge.builder("osfria.router.batch.waiting", this, BatchRunner::waiting)
                .description("Batch requests of Kafka applications waiting for spare backend capacity").register(meters);
    }

    void start(@Observes StartupEvent event) {
        client = vertx.createHttpClient(new HttpClientOptions()
                .setConnectTimeout((int) config.timeouts().connect().toMillis())
                .setKeepAlive(true)
                .setMaxPoolSize(maxLoad)
                .setMaxWaitQueueSize(-1)
                .setTcpNoDelay(true));
        dispatcher.onRelease(this::pump);
        pumpTimer = vertx.setPeriodic(PUMP_MILLIS, id -> pump());
    }

    void stop(@Observes ShutdownEvent event) {
        vertx.cancelTimer(pumpTimer);
        if (client != null) {
            client.close();
        }
    }

    /** Requests waiting for spare capacity right now. */
    public synchronized int waiting() {
        return waiting.size();
    }

    /** Runs one request of application {@code app}; the future always completes with its answer. */
    CompletableFuture<InferenceResult> run(String app, BatchLine line) {
        Call call = new Call(app, line);
        prepare(call);
        return call.done;
    }

    /** The key, the request's model and its checks; then the request waits for spare capacity. */
    private void prepare(Call call) {
        try {
            if (!keys.state().loaded()) {
                later(call);
                return;
            }
            Optional<KeyEntry> key = keys.active(call.app).filter(KeyEntry::kafkaApplication);
            if (key.isEmpty()) {
                keys.reload(); // a key created a moment ago may not be in the last periodic reload yet
                key = keys.active(call.app).filter(KeyEntry::kafkaApplication);
            }
            if (key.isEmpty()) {
                call.error("invalid_api_key", "no active Kafka application key named '" + call.app + "' (revoked?)");
                return;
            }
            call.key = key.get();
            call.request = CompletionRequest.parse(Buffer.buffer(call.line.body()), 0);
        } catch (CompletionRequest.Invalid e) {
            call.error("invalid_request", e.getMessage());
            return;
        } catch (RuntimeException e) {
            Log.errorf(e, "batch request %s of %s", call.line.customId(), call.app);
            call.error("internal_error", "internal error: " + e.getClass().getSimpleName());
            return;
        }
        if (!pool.known(call.request.model())) {
            if (pool.backends().stream().anyMatch(Backend::healthy)) {
                call.error("model_not_found", "The model '" + call.request.model() + "' does not exist");
            } else {
                later(call); // nothing probed yet (a start) or every backend down: the model may well exist
            }
            return;
        }
        synchronized (this) {
            waiting.add(call);
        }
        pump();
    }

    private void later(Call call) {
        vertx.setTimer(NOT_READY_MILLIS, id -> prepare(call));
    }

    /**
     * Starts waiting requests while backends have spare capacity. Cheap when there is none: after one request finds
     * no room, the others for that model are passed over (it runs after every request of the router ends).
     */
    void pump() {
        List<Runnable> starts = new ArrayList<>();
        synchronized (this) {
            if (waiting.isEmpty()) {
                return;
            }
            Set<String> full = new HashSet<>();
            Set<String> held = new HashSet<>(); // keys whose quota is held by their requests in progress
            Instant now = Instant.now();
            for (Iterator<Call> it = waiting.iterator(); it.hasNext(); ) {
                Call call = it.next();
                String model = call.request.model();
                if ((full.contains(model) && call.tried.isEmpty()) || held.contains(call.key.name())) {
                    continue;
                }
                Backend backend = dispatcher.acquireSpare(model, maxLoad, call.tried);
                if (backend == null) {
                    if (!call.tried.isEmpty() && !dispatcher.anyServing(model, call.tried)) {
                        it.remove(); // every backend serving the model failed it
                        starts.add(() -> call.error(call.lastCode, call.lastError + " (after " + call.tried.size()
                                + " backend(s))"));
                    } else if (call.tried.isEmpty()) {
                        full.add(model);
                    }
                    continue;
                }
                try {
                    call.reservation = ledger.reserve(call.key, call.request.promptEstimate(), call.request.maxTokens(), now);
                } catch (UsageLedger.Refused e) {
                    dispatcher.releaseQuietly(backend);
                    UsageLedger.Refusal r = e.refusal();
                    if (r.status() == 503 || r.retryAfterSeconds() <= 1) {
                        held.add(call.key.name());
                        continue; // totals still being read, or the rest held by requests in progress: wait
                    }
                    it.remove();
                    metrics.rejection("quota");
                    starts.add(() -> call.error(r.code(), r.message()));
                    continue;
                }
                it.remove();
                starts.add(() -> send(call, backend));
            }
        }
        for (Runnable start : starts) {
            try {
                start.run();
            } catch (RuntimeException e) {
                // the others still start; this one's attempt ends at its deadline, which frees its slot
                Log.errorf(e, "batch lane: a request could not start");
            }
        }
    }

    private void send(Call call, Backend backend) {
        call.attempts++;
        call.tried.add(backend);
        // The idle time-out below starts only once the HTTP client has leased a connection; until then nothing bounds
        // the attempt, and it would hold its backend slot and leave its record unanswered for as long as it waits.
        // The deadline ends the attempt whatever the client does; the first of answer, failure and deadline wins.
        AtomicBoolean over = new AtomicBoolean();
        AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
        long deadline = config.timeouts().connect().toMillis() + config.timeouts().request().toMillis();
        long timer = vertx.setTimer(deadline, id -> {
            if (over.compareAndSet(false, true)) {
                HttpClientRequest req = sent.get();
                if (req != null) {
                    req.reset();
                }
                failedAttempt(call, backend, "backend_timeout", "Backend " + backend.id() + " did not answer within "
                        + deadline + " ms", false);
            }
        });
        String requestId = "req-" + UUID.randomUUID();
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST)
                .setAbsoluteURI(backend.url() + call.line.url())
                .putHeader("content-type", "application/json").putHeader("accept", "application/json")
                .putHeader("x-request-id", requestId)
                .setIdleTimeout(config.timeouts().request().toMillis());
        backendApiKey.ifPresent(k -> options.putHeader("authorization", "Bearer " + k));
        client.request(options)
                .compose(req -> {
                    sent.set(req);
                    return req.send(Buffer.buffer(call.line.body()));
                })
                .compose(resp -> resp.body().map(body -> new Reply(resp.statusCode(), body)))
                .onComplete(ar -> {
                    if (!over.compareAndSet(false, true)) {
                        return; // the deadline ended this attempt: its slot is freed already
                    }
                    vertx.cancelTimer(timer);
                    if (ar.failed()) {
                        failedAttempt(call, backend, "backend_unavailable", "Backend " + backend.id()
                                + " did not answer: " + ar.cause().getMessage(), ar.cause() instanceof java.net.ConnectException);
                    } else if (RETRYABLE.contains(ar.result().status())) {
                        failedAttempt(call, backend, "backend_" + ar.result().status(), "Backend " + backend.id()
                                + " answered " + ar.result().status(), false);
                    } else {
                        answered(call, backend, requestId, ar.result());
                    }
                });
    }

    private record Reply(int status, Buffer body) {
    }

    private void answered(Call call, Backend backend, String requestId, Reply reply) {
        JsonNode body;
        try {
            body = EventJson.MAPPER.readTree(reply.body().getBytes());
        } catch (Exception e) {
            body = EventJson.MAPPER.createObjectNode().set("error", EventJson.MAPPER.createObjectNode()
                    .put("message", "the backend's answer is not JSON").put("code", "backend_error"));
        }
        if (reply.status() >= 500) {
            backend.breaker().failure(System.nanoTime());
        } else {
            backend.breaker().success();
        }
        JsonNode u = body.path("usage");
        long prompt = reply.status() == 200 ? u.path("prompt_tokens").asLong(0) : 0;
        long completion = reply.status() == 200 ? u.path("completion_tokens").asLong(0) : 0;
        String outcome = reply.status() == 200 ? "ok" : reply.status() < 500 ? "client_error" : "backend_error";
        ledger.settle(call.reservation, prompt + completion);
        dispatcher.release(backend);
        String model = call.request.model();
        metrics.request(model, outcome, System.nanoTime() - call.start);
        InferenceResult.Usage used = null;
        if (prompt + completion > 0) {
            metrics.tokens(model, prompt, completion);
            usage.record(new UsageRecord(requestId, call.key.name(), model, backend.id(), prompt, completion,
                    prompt + completion, false, outcome, Instant.now()));
            used = new InferenceResult.Usage(prompt, completion, prompt + completion);
        }
        call.done.complete(new InferenceResult(call.id, call.line.customId(),
                new InferenceResult.Response(reply.status(), requestId, body), null, used));
    }

    /** Another backend, while attempts are left; the request waits for spare capacity again. */
    private void failedAttempt(Call call, Backend backend, String code, String message, boolean refused) {
        if (backend.breaker().failure(System.nanoTime())) {
            metrics.ejection(backend.id());
        }
        if (refused) {
            pool.markDown(backend, message);
        }
        ledger.settle(call.reservation, 0);
        call.reservation = null;
        call.lastCode = code;
        call.lastError = message;
        Log.debugf("batch request %s of %s: %s", call.line.customId(), call.app, message);
        boolean again = call.attempts < config.retries().maxAttempts();
        if (again) {
            metrics.retry(code);
            synchronized (this) {
                waiting.add(call);
            }
        }
        dispatcher.release(backend); // pumps: the request may start on another backend at once
        if (!again) {
            call.error(code, message + " (after " + call.tried.size() + " backend(s))");
        }
    }

    /** One batch request on its way: its key and checked request once prepared, the backends it tried. */
    private static final class Call {
        final String app;
        final BatchLine line;
        final String id = "batch_req_" + UUID.randomUUID().toString().replace("-", "");
        final CompletableFuture<InferenceResult> done = new CompletableFuture<>();
        final long start = System.nanoTime();
        final Set<Backend> tried = new HashSet<>();
        KeyEntry key;
        CompletionRequest request;
        UsageLedger.Reservation reservation;
        int attempts;
        String lastCode = "backend_unavailable";
        String lastError = "no backend answered";

        Call(String app, BatchLine line) {
            this.app = app;
            this.line = line;
        }

        void error(String code, String message) {
            done.complete(new InferenceResult(id, line.customId(), null, new InferenceResult.Error(code, message), null));
        }
    }
}
