package fr.osfria.router.proxy;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses a request from its headers, before its body is read. Nothing of the body is kept: what the client goes on
 * sending is read into nothing for at most {@link #MAX_BYTES} and {@link #MAX_MILLIS} (closing at once on unread
 * bytes would reset the connection and could lose the answer on the way), then the connection is closed. A body
 * that ends within those bounds leaves the connection open for the next request.
 */
final class BodyDrain {

    static final long MAX_BYTES = 256 * 1024;
    static final long MAX_MILLIS = 2000;

    /** Answers {@code status} with an OpenAI-shaped error (and {@code Retry-After} when not negative). */
    static void refuse(RoutingContext ctx, int status, long retryAfterSeconds, String message, String code) {
        if (retryAfterSeconds >= 0) {
            ctx.response().putHeader("retry-after", Long.toString(retryAfterSeconds));
        }
        HttpServerRequest request = ctx.request();
        if (!request.isEnded()) {
            long[] drained = {0};
            long timer = ctx.vertx().setTimer(MAX_MILLIS, id -> stop(ctx));
            request.handler(chunk -> {
                drained[0] += chunk.length();
                if (drained[0] > MAX_BYTES) {
                    ctx.vertx().cancelTimer(timer);
                    stop(ctx);
                }
            });
            request.endHandler(v -> ctx.vertx().cancelTimer(timer));
            request.exceptionHandler(e -> ctx.vertx().cancelTimer(timer));
            request.resume();
        }
        ErrorWriter.write(ctx.response(), status, message, code);
    }

    /** HTTP/1.1: closes the connection. HTTP/2: resets this stream only, the connection's other streams go on. */
    private static void stop(RoutingContext ctx) {
        if (ctx.request().version() == HttpVersion.HTTP_2) {
            ctx.response().reset();
        } else {
            ctx.request().connection().close();
        }
    }

    private BodyDrain() {
    }
}
