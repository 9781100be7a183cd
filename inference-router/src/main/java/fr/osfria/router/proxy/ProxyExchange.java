package fr.osfria.router.proxy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.usage.UsageRecord;
import fr.osfria.router.backend.Backend;
import fr.osfria.router.balance.Dispatcher;
import fr.osfria.router.usage.UsageLedger;
import fr.osfria.security.key.KeyEntry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One client request on its way through the pool. Until the first byte goes back to the client, a failed attempt
 * (refused connection, 429/502/503/504, no first token in time) is sent again to a backend not tried yet; after
 * that, a break ends the stream with an error event. Everything here runs on the client connection's event loop.
 */
final class ProxyExchange {

    private static final Set<Integer> RETRYABLE = Set.of(429, 502, 503, 504);

    private final CompletionProxy proxy;
    private final RoutingContext ctx;
    private final HttpServerResponse out;
    private final KeyEntry key;
    private final CompletionRequest request;
    private final String path;
    private final String requestId;
    private final String affinityKey;
    private final UsageLedger.Reservation reservation;
    private final long startNanos = System.nanoTime();
    private final Set<Backend> tried = new HashSet<>();

    private int attempt;
    private Backend backend;
    private Future<Backend> waiting;
    private HttpClientRequest upstream;
    private long timer = -1;
    private long watchdog = -1;
    private boolean finished;
    private boolean started;
    private boolean sawDone;
    private long lastChunkNanos;
    /** Since when the client's send buffer has been full and the backend paused for it; 0 when it is not. */
    private long clientBlockedSince;
    private long firstTokenNanos;
    private long chunks;
    private long promptTokens = -1;
    private long completionTokens = -1;
    private Buffer pending;
    private int lastStatus = 502;
    private String lastError = "no backend answered";
    private String lastCode = "backend_unavailable";

    ProxyExchange(CompletionProxy proxy, RoutingContext ctx, KeyEntry key, CompletionRequest request, String path,
                  String requestId, String affinityKey, UsageLedger.Reservation reservation) {
        this.proxy = proxy;
        this.ctx = ctx;
        this.out = ctx.response();
        this.key = key;
        this.request = request;
        this.path = path;
        this.requestId = requestId;
        this.affinityKey = affinityKey;
        this.reservation = reservation;
    }

    void start() {
        out.closeHandler(v -> clientGone());
        proxy.retryBudget().request(System.currentTimeMillis());
        nextAttempt();
    }

    private void nextAttempt() {
        attempt++;
        Future<Backend> slot = proxy.dispatcher().acquire(request.model(), affinityKey, tried);
        waiting = slot;
        slot.onComplete(ar -> {
            waiting = null;
            if (finished) {
                if (ar.succeeded()) {
                    proxy.dispatcher().release(ar.result());
                }
                return;
            }
            if (ar.failed()) {
                Dispatcher.NoSlot no = ar.cause() instanceof Dispatcher.NoSlot n ? n : null;
                if (tried.isEmpty() && no != null) {
                    proxy.metrics().rejection(no.code);
                    ErrorWriter.write(out, no.status, no.getMessage(), no.code);
                    finish(no.code.equals("overloaded") ? "overloaded" : "no_backend");
                } else {
                    failWithLast();
                }
                return;
            }
            backend = ar.result();
            tried.add(backend);
            send(attempt);
        });
    }

    private void send(int attemptNo) {
        Backend b = backend;
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setAbsoluteURI(b.url() + path)
                .putHeader("content-type", "application/json")
                .putHeader("accept", request.stream() ? "text/event-stream" : "application/json")
                .putHeader("x-request-id", requestId);
        proxy.backendApiKey().ifPresent(k -> options.putHeader("authorization", "Bearer " + k));
        long wait = request.stream() ? proxy.config().timeouts().firstToken().toMillis()
                : proxy.config().timeouts().request().toMillis();
        timer = proxy.vertx().setTimer(wait, id -> {
            if (attemptNo == attempt && !started && !finished) {
                attemptFailed(attemptNo, 504, "backend_timeout", "Backend " + b.id() + " sent no "
                        + (request.stream() ? "first token" : "answer") + " within " + wait + " ms", true);
            }
        });
        proxy.client().request(options)
                .onFailure(e -> attemptFailed(attemptNo, 502, "backend_unavailable",
                        "Backend " + b.id() + " refused the connection: " + e.getMessage(), true))
                .onSuccess(req -> {
                    if (attemptNo != attempt || finished) {
                        req.reset();
                        return;
                    }
                    upstream = req;
                    req.response()
                            .onSuccess(resp -> onResponse(attemptNo, resp))
                            .onFailure(e -> attemptFailed(attemptNo, 502, "backend_error",
                                    "Backend " + b.id() + " closed the connection: " + e.getMessage(), false));
                    req.end(request.forward());
                });
    }

    private void onResponse(int attemptNo, HttpClientResponse resp) {
        if (attemptNo != attempt || finished) {
            resp.request().reset();
            return;
        }
        // a response abandoned below (reset) reports it as an error: expected, not worth Vert.x's ERROR log line
        resp.exceptionHandler(e -> { });
        int status = resp.statusCode();
        if (RETRYABLE.contains(status)) {
            resp.request().reset();
            attemptFailed(attemptNo, status, "backend_" + status, "Backend " + backend.id() + " answered " + status, false);
            return;
        }
        String type = resp.getHeader("content-type");
        if (request.stream() && status == 200 && type != null && type.startsWith("text/event-stream")) {
            relayStream(attemptNo, resp);
        } else {
            relayWhole(attemptNo, resp);
        }
    }

    private void relayWhole(int attemptNo, HttpClientResponse resp) {
        resp.body().onComplete(ar -> {
            if (attemptNo != attempt || finished) {
                return;
            }
            if (ar.failed()) {
                attemptFailed(attemptNo, 502, "backend_error", "Backend " + backend.id() + " broke off its answer: "
                        + ar.cause().getMessage(), false);
                return;
            }
            proxy.vertx().cancelTimer(timer);
            started = true;
            Buffer body = ar.result();
            int status = resp.statusCode();
            String type = resp.getHeader("content-type");
            // the usage is charged before the answer leaves: a client's next request (on another event loop) must
            // find its rate limit already charged
            if (status == 200) {
                readUsage(body);
            }
            if (status >= 500) {
                breakerFailure();
            } else {
                backend.breaker().success();
            }
            finish(status == 200 ? "ok" : status < 500 ? "client_error" : "backend_error");
            out.setStatusCode(status).putHeader("content-type", type != null ? type : "application/json")
                    .putHeader("x-request-id", requestId).end(body);
        });
    }

    private void relayStream(int attemptNo, HttpClientResponse resp) {
        resp.handler(chunk -> {
            if (attemptNo != attempt || finished) {
                return;
            }
            if (!started) {
                started = true;
                proxy.vertx().cancelTimer(timer);
                out.setStatusCode(200).setChunked(true)
                        .putHeader("content-type", "text/event-stream")
                        .putHeader("cache-control", "no-cache")
                        .putHeader("x-accel-buffering", "no")
                        .putHeader("x-request-id", requestId);
                lastChunkNanos = System.nanoTime();
                startWatchdog(attemptNo);
            }
            onChunk(chunk);
            if (out.writeQueueFull() && clientBlockedSince == 0) {
                // a slow client: stop reading the backend until it catches up. The backend is silent meanwhile
                // because the router asked it to be: its idle clock stops, the client's write clock runs.
                resp.pause();
                clientBlockedSince = System.nanoTime();
                out.drainHandler(v -> {
                    clientBlockedSince = 0;
                    lastChunkNanos = System.nanoTime();
                    resp.resume();
                });
            }
        });
        resp.exceptionHandler(e -> {
            if (attemptNo == attempt && !finished) {
                if (started) {
                    brokenStream("The backend's stream broke off: " + e.getMessage());
                } else {
                    attemptFailed(attemptNo, 502, "backend_error", "Backend " + backend.id() + " broke off: "
                            + e.getMessage(), false);
                }
            }
        });
        resp.endHandler(v -> {
            if (attemptNo != attempt || finished) {
                return;
            }
            if (pending != null && pending.length() > 0) {
                out.write(pending);
                pending = null;
            }
            if (!sawDone) {
                brokenStream("The backend ended the stream before [DONE]");
                return;
            }
            backend.breaker().success();
            finish("ok"); // charged before the end, as for a whole answer
            out.end();
        });
    }

    /** Splits what arrived into whole SSE events and forwards them, minus the usage chunk the client did not ask for. */
    private void onChunk(Buffer chunk) {
        long now = System.nanoTime();
        Buffer data = pending == null ? chunk : pending.appendBuffer(chunk);
        Buffer forward = Buffer.buffer(data.length());
        int from = 0;
        int end;
        while ((end = eventEnd(data, from)) >= 0) {
            Buffer event = data.getBuffer(from, end);
            from = end;
            if (keep(event, now)) {
                forward.appendBuffer(event);
            }
        }
        pending = from < data.length() ? data.getBuffer(from, data.length()) : null;
        if (forward.length() > 0) {
            out.write(forward);
        }
    }

    private static int eventEnd(Buffer data, int from) {
        for (int i = from; i + 1 < data.length(); i++) {
            if (data.getByte(i) == '\n' && data.getByte(i + 1) == '\n') {
                return i + 2;
            }
        }
        return -1;
    }

    private boolean keep(Buffer event, long now) {
        String text = event.toString();
        if (text.startsWith("data: [DONE]")) {
            sawDone = true;
            return true;
        }
        if (text.contains("\"usage\"") && !text.contains("\"usage\":null") && readUsage(text.substring(text.indexOf('{')))) {
            JsonNode choices = usageChoices;
            if (choices == null || choices.isEmpty()) {
                return request.clientWantsUsage();
            }
        }
        if (text.contains("\"choices\"")) {
            if (chunks == 0) {
                firstTokenNanos = now;
                proxy.metrics().timeToFirstToken(request.model(), now - startNanos);
            } else {
                interTokenTimer().record(now - lastChunkNanos, TimeUnit.NANOSECONDS);
            }
            chunks++;
        }
        lastChunkNanos = now;
        return true;
    }

    private JsonNode usageChoices;
    private Timer interToken;

    private Timer interTokenTimer() {
        if (interToken == null) {
            interToken = proxy.metrics().interTokenTimer(request.model());
        }
        return interToken;
    }

    private boolean readUsage(String json) {
        try {
            return readUsage(EventJson.MAPPER.readTree(json));
        } catch (Exception e) {
            return false;
        }
    }

    /** A whole answer's usage, without building a tree of the whole answer (its text may be long). */
    private void readUsage(Buffer body) {
        try (JsonParser json = EventJson.MAPPER.getFactory().createParser(body.getBytes())) {
            if (json.nextToken() == JsonToken.START_OBJECT) {
                while (json.nextToken() == JsonToken.FIELD_NAME) {
                    String field = json.currentName();
                    if (json.nextToken() == JsonToken.START_OBJECT && "usage".equals(field)) {
                        count(json.readValueAsTree());
                    } else {
                        json.skipChildren();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            Log.debugf("answer of %s has no readable usage", requestId);
        }
    }

    private boolean readUsage(JsonNode root) {
        if (!count(root.path("usage"))) {
            return false;
        }
        usageChoices = root.get("choices");
        return true;
    }

    private boolean count(JsonNode usage) {
        if (!usage.isObject()) {
            return false;
        }
        promptTokens = usage.path("prompt_tokens").asLong(0);
        completionTokens = usage.path("completion_tokens").asLong(0);
        return true;
    }

    private void startWatchdog(int attemptNo) {
        long idle = proxy.config().timeouts().idle().toNanos();
        long clientWrite = proxy.config().timeouts().clientWrite().toNanos();
        long period = Math.max(10, Math.min(1000, Math.min(idle, clientWrite) / 4_000_000));
        watchdog = proxy.vertx().setPeriodic(period, id -> {
            long now = System.nanoTime();
            if (finished || attemptNo != attempt) {
                proxy.vertx().cancelTimer(id);
            } else if (clientBlockedSince != 0) {
                if (now - clientBlockedSince > clientWrite) {
                    clientTooSlow();
                }
            } else if (now - lastChunkNanos > idle) {
                brokenStream("The backend sent nothing for " + proxy.config().timeouts().idle().toMillis() + " ms");
            }
        });
    }

    private void brokenStream(String why) {
        Log.warnf("stream %s from backend %s broke: %s", requestId, backend.id(), why);
        breakerFailure();
        if (!out.ended()) {
            out.end(ErrorWriter.streamError(why, "stream_interrupted"));
        }
        endThenCancel("backend_error");
    }

    /**
     * Finishes first, then cancels the backend request: the cancellation reports itself as an error of the backend's
     * stream, which must find the exchange finished and be ignored (not counted against the backend).
     */
    private void endThenCancel(String outcome) {
        HttpClientRequest cancel = upstream;
        finish(outcome);
        if (cancel != null) {
            cancel.reset();
        }
    }

    /**
     * The client has not taken what was sent for longer than its write time-out: its stream ends, the backend request
     * is cancelled, and the backend's breaker hears nothing of it (the backend did nothing wrong).
     */
    private void clientTooSlow() {
        Log.debugf("stream %s: the client read nothing for %d ms, dropped", requestId,
                proxy.config().timeouts().clientWrite().toMillis());
        endThenCancel("client_timeout");
        out.reset(); // its buffer is full: nothing more can reach it, not even an error event
    }

    /** An attempt failed before anything reached the client: try another backend, or give the client the error. */
    private void attemptFailed(int attemptNo, int status, String code, String message, boolean connectFailure) {
        if (attemptNo != attempt || finished || started || backend == null) {
            return; // stale, or this attempt's failure was handled already (a reset reports it a second time)
        }
        proxy.vertx().cancelTimer(timer);
        lastStatus = status;
        lastCode = code;
        lastError = message;
        breakerFailure();
        Backend failed = backend;
        backend = null; // first: the reset below reports this failure again, and it must be ignored
        if (upstream != null) {
            upstream.reset();
            upstream = null;
        }
        if (connectFailure && code.equals("backend_unavailable")) {
            proxy.pool().markDown(failed, message);
        }
        proxy.dispatcher().release(failed);
        Log.debugf("request %s: %s", requestId, message);
        if (attempt < proxy.config().retries().maxAttempts() && proxy.retryBudget().tryRetry(System.currentTimeMillis())) {
            proxy.metrics().retry(code);
            long base = proxy.config().retries().backoff().toMillis() << Math.min(attempt - 1, 6);
            long delay = Math.max(1, (long) (base * (0.5 + ThreadLocalRandom.current().nextDouble())));
            proxy.vertx().setTimer(delay, id -> {
                if (!finished) {
                    nextAttempt();
                }
            });
        } else {
            failWithLast();
        }
    }

    private void failWithLast() {
        int status = lastStatus == 504 ? 504 : lastStatus == 429 ? 429 : lastStatus >= 500 ? lastStatus : 502;
        ErrorWriter.write(out, status, lastError + " (after " + tried.size() + " backend(s))", lastCode);
        finish(status == 504 ? "timeout" : "backend_error");
    }

    private void breakerFailure() {
        if (backend != null && backend.breaker().failure(System.nanoTime())) {
            Log.warnf("backend %s ejected after repeated failures", backend.id());
            proxy.metrics().ejection(backend.id());
        }
    }

    /** The client went away: stop the backend's work and free the slot. */
    private void clientGone() {
        if (finished) {
            return;
        }
        if (waiting != null) {
            proxy.dispatcher().abandon(waiting);
        }
        endThenCancel("client_cancelled");
    }

    private void finish(String outcome) {
        if (finished) {
            return;
        }
        finished = true;
        proxy.vertx().cancelTimer(timer);
        if (watchdog >= 0) {
            proxy.vertx().cancelTimer(watchdog);
        }
        long now = System.nanoTime();
        Backend b = backend;
        if (b != null) {
            proxy.dispatcher().release(b);
        }
        proxy.metrics().request(request.model(), outcome, now - startNanos);
        boolean counted = promptTokens >= 0;
        long prompt = counted ? promptTokens : 0;
        // without a usage figure (a stream cut short), each content chunk is one token, as vLLM streams them
        long completion = counted ? completionTokens : chunks;
        proxy.ledger().settle(reservation, b == null ? 0 : prompt + completion);
        if (b == null) {
            return; // no backend answered: nothing generated, nothing to count
        }
        if (prompt + completion > 0) {
            proxy.metrics().tokens(request.model(), prompt, completion);
            if (request.stream() && chunks > 1 && now > firstTokenNanos) {
                proxy.metrics().generationSpeed(request.model(), (completion - 1) * 1e9 / (lastChunkNanos - firstTokenNanos + 1));
            }
            proxy.rateLimiter().charge(key, prompt + completion, now);
            proxy.usage().record(new UsageRecord(requestId, key.name(), request.model(), b.id(), prompt, completion,
                    prompt + completion, request.stream(), outcome, Instant.now()));
        }
    }
}
