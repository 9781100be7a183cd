package fr.osfria.webhook.delivery;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A company's application receiving webhooks, on loopback: records what arrives, answers what it is told. */
public final class Receiver implements AutoCloseable {

    public record Request(Instant at, MultiMap headers, String body) {
    }

    private final Vertx vertx = Vertx.vertx();
    private final HttpServer server;
    public final List<Request> received = new CopyOnWriteArrayList<>();
    /** Statuses to answer, in order; when empty, 200. */
    public final Queue<Integer> answers = new ConcurrentLinkedQueue<>();
    /** Answers written to the wire (a delayed 200 counts once it is sent). */
    public final AtomicInteger answered = new AtomicInteger();
    public volatile String retryAfter;
    /** Reads requests and never answers them. */
    volatile boolean silent;
    /** Bytes of body to answer with (a receiver that says far too much). */
    volatile int answerBytes;
    /** Milliseconds to wait before answering 200. */
    public volatile long delayMillis;
    /** Answers 302 to this location. */
    volatile String redirectTo;

    public Receiver() throws Exception {
        server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            received.add(new Request(Instant.now(), MultiMap.caseInsensitiveMultiMap().addAll(req.headers()), body.toString()));
            if (silent) {
                return;
            }
            if (redirectTo != null) {
                req.response().setStatusCode(302).putHeader("Location", redirectTo).end();
                return;
            }
            if (answerBytes > 0) {
                req.response().setStatusCode(200).end(io.vertx.core.buffer.Buffer.buffer(new byte[answerBytes]));
                return;
            }
            if (delayMillis > 0 && answers.isEmpty()) {
                vertx.setTimer(delayMillis, t -> req.response().setStatusCode(200).end("ok")
                        .onSuccess(v -> answered.incrementAndGet()));
                return;
            }
            Integer status = answers.poll();
            var response = req.response().setStatusCode(status == null ? 200 : status);
            if (retryAfter != null && status != null && status == 429) {
                response.putHeader("Retry-After", retryAfter);
            }
            response.end("ok").onSuccess(v -> answered.incrementAndGet());
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    public String url() {
        return "http://127.0.0.1:" + server.actualPort() + "/hooks";
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
