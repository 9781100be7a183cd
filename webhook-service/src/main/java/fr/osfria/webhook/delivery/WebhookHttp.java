package fr.osfria.webhook.delivery;

import fr.osfria.security.network.TargetPolicy.Target;
import io.netty.channel.ConnectTimeoutException;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends one attempt to a checked target: connects to the checked address (never resolves the name again), names the
 * host in the Host header, the TLS server name and the certificate check, and ends the attempt at the receiver's
 * status line or at a total deadline, whichever comes first. The answer's body is not read: up to
 * {@link #DRAIN_BYTES} are discarded for {@link #DRAIN_MILLIS} so the connection can serve again, then it is closed.
 */
final class WebhookHttp {

    private static final int DRAIN_BYTES = 64 * 1024;
    private static final long DRAIN_MILLIS = 1_000;

    private final Vertx vertx;
    private final HttpClient client;
    private final long deadlineMillis;

    WebhookHttp(Vertx vertx, Duration deadline, int connectionsPerTarget) {
        this.vertx = vertx;
        this.deadlineMillis = Math.max(1, deadline.toMillis());
        this.client = vertx.createHttpClient(new HttpClientOptions()
                        .setConnectTimeout((int) deadlineMillis)
                        .setKeepAlive(true)
                        .setVerifyHost(true), // the certificate must name the host of the URL, not the address
                new PoolOptions().setHttp1MaxSize(connectionsPerTarget));
    }

    Uni<Outcome> post(Target target, MultiMap headers, Buffer body) {
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setServer(SocketAddress.inetSocketAddress(new InetSocketAddress(target.address(), target.port())))
                .setHost(target.host())
                .setPort(target.port())
                .setSsl(target.tls())
                .setURI(target.pathAndQuery())
                .setHeaders(headers)
                .setFollowRedirects(false); // a redirect is an answer, not an instruction to send elsewhere
        return Uni.createFrom().emitter(emitter -> {
            long start = System.nanoTime();
            AtomicBoolean over = new AtomicBoolean();
            AtomicReference<HttpClientRequest> request = new AtomicReference<>();
            long deadline = vertx.setTimer(deadlineMillis, id -> {
                if (over.compareAndSet(false, true)) {
                    emitter.complete(Outcome.failed(Outcome.TIMEOUT, elapsed(start)));
                    HttpClientRequest r = request.get();
                    if (r != null) {
                        r.reset(); // closes the connection: a black hole or a trickle keeps nothing of ours
                    }
                }
            });
            client.request(options).onComplete(connected -> {
                if (connected.failed()) {
                    fail(connected.cause(), over, deadline, emitter, start);
                    return;
                }
                HttpClientRequest r = connected.result();
                r.exceptionHandler(e -> { }); // failures arrive through send(); a reset of ours is no error to log
                request.set(r);
                if (over.get()) {
                    r.reset();
                    return;
                }
                r.send(body).onComplete(answered -> {
                    if (answered.failed()) {
                        fail(answered.cause(), over, deadline, emitter, start);
                        return;
                    }
                    HttpClientResponse response = answered.result();
                    discard(r, response);
                    if (over.compareAndSet(false, true)) {
                        vertx.cancelTimer(deadline);
                        emitter.complete(Outcome.answered(response.statusCode(), elapsed(start), retryAfter(response)));
                    }
                });
            });
        });
    }

    private void fail(Throwable cause, AtomicBoolean over, long deadline, io.smallrye.mutiny.subscription.UniEmitter<? super Outcome> emitter,
                      long start) {
        if (over.compareAndSet(false, true)) {
            vertx.cancelTimer(deadline);
            // operators may see the cause; the subscription's owner sees one word
            Log.debugf("webhook attempt failed: %s", cause.toString());
            boolean timedOut = cause instanceof TimeoutException || cause instanceof ConnectTimeoutException
                    || cause.getClass().getSimpleName().contains("Timeout");
            emitter.complete(Outcome.failed(timedOut ? Outcome.TIMEOUT : Outcome.CONNECTION_FAILED, elapsed(start)));
        }
    }

    /** Lets a short answer body end (the connection then serves again); a long or slow one closes the connection. */
    private void discard(HttpClientRequest request, HttpClientResponse response) {
        long guard = vertx.setTimer(DRAIN_MILLIS, id -> request.reset());
        long[] bytes = {0};
        response.handler(chunk -> {
            bytes[0] += chunk.length();
            if (bytes[0] > DRAIN_BYTES && vertx.cancelTimer(guard)) {
                request.reset();
            }
        });
        response.endHandler(v -> vertx.cancelTimer(guard));
        response.exceptionHandler(e -> vertx.cancelTimer(guard));
    }

    /** {@code Retry-After} in seconds (the HTTP-date form is rare for webhooks and is read as no advice). */
    private static Duration retryAfter(HttpClientResponse response) {
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

    private static long elapsed(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    void close() {
        client.close();
    }
}
