package fr.osfria.router.proxy;

import fr.osfria.router.RouterConfig;
import fr.osfria.router.backend.BackendPool;
import fr.osfria.router.balance.Dispatcher;
import fr.osfria.router.balance.RetryBudget;
import fr.osfria.router.limit.RateLimiter;
import fr.osfria.router.metrics.RouterMetrics;
import fr.osfria.router.usage.UsageLedger;
import fr.osfria.router.usage.UsageRecorder;
import fr.osfria.security.key.ApiKeys;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * {@code POST /v1/chat/completions} and {@code /v1/completions}: authenticates the key and applies its rate limit
 * and quota from the headers alone (a refused request's body is never buffered: {@link BodyDrain}), then reads the
 * body, checks it just enough to route it, reserves its tokens against the key's quota and hands it to a
 * {@link ProxyExchange}. These are
 * plain Vert.x routes rather than JAX-RS resources so that a stream is relayed chunk by chunk with back-pressure, and
 * a backend request is cancelled the moment its client leaves.
 */
@ApplicationScoped
public class CompletionProxy {

    public static final String CHAT = "/v1/chat/completions";
    public static final String COMPLETIONS = "/v1/completions";
    private static final String KEY = "osfria.key";

    private final RouterConfig config;
    private final Vertx vertx;
    private final BackendPool pool;
    private final Dispatcher dispatcher;
    private final KeyRegistry keys;
    private final RateLimiter rateLimiter;
    private final UsageLedger ledger;
    private final UsageRecorder usage;
    private final RouterMetrics metrics;
    private final RetryBudget retryBudget;
    private final Optional<String> backendApiKey;
    private HttpClientOptions clientOptions;
    /**
     * One backend client per event loop: a request and its backend connection then live on the same thread, with no
     * hand-over between loops on every chunk.
     */
    private final ThreadLocal<HttpClient> clients = new ThreadLocal<>();
    private final java.util.List<HttpClient> allClients = new java.util.concurrent.CopyOnWriteArrayList<>();

    public CompletionProxy(RouterConfig config, Vertx vertx, BackendPool pool, Dispatcher dispatcher, KeyRegistry keys,
                           RateLimiter rateLimiter, UsageLedger ledger, UsageRecorder usage, RouterMetrics metrics,
                           @ConfigProperty(name = "osfria.router.backend-api-key") Optional<String> backendApiKey) {
        this.config = config;
        this.vertx = vertx;
        this.pool = pool;
        this.dispatcher = dispatcher;
        this.keys = keys;
        this.rateLimiter = rateLimiter;
        this.ledger = ledger;
        this.usage = usage;
        this.metrics = metrics;
        this.backendApiKey = backendApiKey.filter(k -> !k.isBlank());
        this.retryBudget = new RetryBudget(config.retries().budgetRatio(), config.retries().budgetMinPerSecond());
    }

    void routes(@Observes Router router) {
        clientOptions = new HttpClientOptions()
                .setConnectTimeout((int) config.timeouts().connect().toMillis())
                .setKeepAlive(true)
                .setMaxPoolSize(config.admission().maxInFlightPerBackend())
                .setMaxWaitQueueSize(-1)
                .setTcpNoDelay(true);
        BodyHandler body = BodyHandler.create(false).setBodyLimit(config.maxBodySize().asLongValue());
        for (String path : new String[] {CHAT, COMPLETIONS}) {
            // the key, its rate limit and quota are checked from the headers: no body byte is read for a refusal.
            // Two routes: Vert.x wants a body handler first on its route.
            router.post(path).handler(this::admit).failureHandler(this::failed);
            router.post(path).handler(body).handler(ctx -> handle(ctx, path)).failureHandler(this::failed);
        }
    }

    void stop(@Observes ShutdownEvent event) {
        allClients.forEach(HttpClient::close);
    }

    /** Before the body: who is calling, and may they call now. The body stays unread until this lets it through. */
    private void admit(RoutingContext ctx) {
        KeyEntry key = authenticate(ctx);
        if (key == null) {
            return;
        }
        UsageLedger.Refusal quota = ledger.check(key, Instant.now());
        if (quota != null) {
            refuse(ctx, quota);
            return;
        }
        RateLimiter.Refusal refusal = rateLimiter.admit(key, System.nanoTime());
        if (refusal != null) {
            metrics.rejection("rate_limit");
            BodyDrain.refuse(ctx, 429, refusal.retryAfterSeconds(), refusal.message(), "rate_limit_exceeded");
            return;
        }
        ctx.put(KEY, key);
        ctx.next();
    }

    private void handle(RoutingContext ctx, String path) {
        HttpServerResponse out = ctx.response();
        KeyEntry key = ctx.get(KEY);
        CompletionRequest request;
        try {
            request = CompletionRequest.parse(ctx.body().buffer(), config.balancing().prefixLength());
        } catch (CompletionRequest.Invalid e) {
            metrics.rejection("invalid_request");
            ErrorWriter.write(out, 400, e.getMessage(), "invalid_request");
            return;
        }
        if (!pool.known(request.model())) {
            metrics.rejection("model_not_found");
            ErrorWriter.write(out, 404, "The model '" + request.model() + "' does not exist", "model_not_found");
            return;
        }
        UsageLedger.Reservation reservation;
        try {
            reservation = ledger.reserve(key, request.promptEstimate(), request.maxTokens(), Instant.now());
        } catch (UsageLedger.Refused e) {
            refuse(ctx, e.refusal());
            return;
        }
        String requestId = "req-" + UUID.randomUUID();
        new ProxyExchange(this, ctx, key, request, path, requestId, affinityKey(ctx, request), reservation).start();
    }

    private void refuse(RoutingContext ctx, UsageLedger.Refusal refusal) {
        metrics.rejection(refusal.status() == 503 ? "quota_unavailable" : "quota");
        BodyDrain.refuse(ctx, refusal.status(), refusal.retryAfterSeconds(), refusal.message(), refusal.code());
    }

    private KeyEntry authenticate(RoutingContext ctx) {
        String header = ctx.request().getHeader("authorization");
        String presented = ApiKeys.fromBearer(header);
        KeyEntry key = presented == null ? null : keys.find(presented).orElse(null);
        if (key == null) {
            metrics.rejection("unauthorized");
            ctx.response().putHeader("www-authenticate", "Bearer realm=\"osfria\"");
            BodyDrain.refuse(ctx, 401, -1, header == null
                    ? "Missing API key: send 'Authorization: Bearer <api key>'" : "Invalid or revoked API key",
                    "invalid_api_key");
        }
        return key;
    }

    private String affinityKey(RoutingContext ctx, CompletionRequest request) {
        if (!"affinity".equalsIgnoreCase(config.balancing().strategy())) {
            return null;
        }
        String session = ctx.request().getHeader(config.balancing().sessionHeader());
        if (session != null && !session.isBlank()) {
            return "s:" + session;
        }
        if (request.user() != null && !request.user().isBlank()) {
            return "u:" + request.user();
        }
        return request.prefix() == null ? null : "p:" + request.prefix();
    }

    private void failed(RoutingContext ctx) {
        int status = ctx.statusCode();
        if (ctx.failure() instanceof io.vertx.core.http.HttpClosedException || ctx.response().closed()) {
            return; // the client left while sending its body: nobody to answer
        }
        if (status == 413) {
            metrics.rejection("too_large");
            ErrorWriter.write(ctx.response(), 413, "The request body is larger than "
                    + config.maxBodySize().asLongValue() + " bytes", "request_too_large");
        } else if (status == 400) {
            ErrorWriter.write(ctx.response(), 400, "The request body could not be read", "invalid_request");
        } else {
            io.quarkus.logging.Log.errorf(ctx.failure(), "completion request failed");
            ErrorWriter.write(ctx.response(), 500, "Internal error", "internal_error");
        }
    }

    RouterConfig config() {
        return config;
    }

    Vertx vertx() {
        return vertx;
    }

    HttpClient client() {
        HttpClient client = clients.get();
        if (client == null) {
            client = vertx.createHttpClient(clientOptions);
            clients.set(client);
            allClients.add(client);
        }
        return client;
    }

    BackendPool pool() {
        return pool;
    }

    Dispatcher dispatcher() {
        return dispatcher;
    }

    RateLimiter rateLimiter() {
        return rateLimiter;
    }

    UsageLedger ledger() {
        return ledger;
    }

    UsageRecorder usage() {
        return usage;
    }

    RouterMetrics metrics() {
        return metrics;
    }

    RetryBudget retryBudget() {
        return retryBudget;
    }

    Optional<String> backendApiKey() {
        return backendApiKey;
    }
}
