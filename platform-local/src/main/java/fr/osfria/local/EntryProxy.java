package fr.osfria.local;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The one entry port: routes each request of the public API to its service (see {@link Routes}) and streams bodies
 * both ways without buffering, so server-sent events pass token by token. It answers two paths itself, with a bare
 * UP/DOWN and nothing else (no file paths, no exception texts, no backend addresses): {@code /q/health} for every
 * service and {@code /health} for the inference router; and the API's description, {@code /openapi} and
 * {@code /docs} ({@link DocsPages}). It listens on {@link LocalSettings#bindAddress()}.
 */
public final class EntryProxy implements AutoCloseable {

    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host");

    /** Connections kept to each service; a request past them waits for one. */
    static final int CONNECTIONS_PER_SERVICE = 64;

    private final LocalSettings settings;
    private final Vertx vertx = Vertx.vertx();
    private final HttpClient client;
    private final DocsPages docs;
    private HttpServer server;

    public EntryProxy(LocalSettings settings) {
        this.settings = settings;
        this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5000).setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(CONNECTIONS_PER_SERVICE));
        this.docs = new DocsPages(vertx, settings);
    }

    public void start() {
        try {
            server = vertx.createHttpServer().requestHandler(this::handle)
                    .listen(settings.entryPort(), settings.bindAddress())
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new LocalPlatformException("cannot listen on " + settings.bindAddress() + ":" + settings.entryPort()
                    + " (OSFRIA_BIND, OSFRIA_PORT): " + e.getMessage(), e);
        }
    }

    private void handle(HttpServerRequest request) {
        String path = request.path();
        if ("/q/health".equals(path) || "/q/health/".equals(path)) {
            aggregateHealth(request.response());
            return;
        }
        if ("/health".equals(path)) {
            routerHealth(request.response());
            return;
        }
        if (!Routes.isCanonical(path)) {
            request.response().setStatusCode(400).putHeader("content-type", "application/json")
                    .end(error("the request path is not canonical (dot segments, double slashes, encoded dots or "
                            + "slashes are refused)", "invalid_request_error", "invalid_path"));
            return;
        }
        if (DocsPages.serves(path)) {
            docs.handle(request);
            return;
        }
        Routes.route(path, settings.exposeAlerts()).ifPresentOrElse(target -> forward(request, target), () -> request
                .response().setStatusCode(404).putHeader("content-type", "application/json")
                .end(error("no route for " + path, "not_found_error", "unknown_route")));
    }

    private void forward(HttpServerRequest request, Routes.Target target) {
        request.pause();
        String query = request.query();
        RequestOptions options = new RequestOptions()
                .setMethod(request.method())
                .setHost("127.0.0.1")
                .setPort(settings.portOf(target.service()))
                .setURI(target.path() + (query == null ? "" : "?" + query));
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        copyHeaders(request.headers(), headers);
        headers.set("x-forwarded-for", String.valueOf(request.remoteAddress().host()));
        headers.set("x-forwarded-host", String.valueOf(request.authority()));
        options.setHeaders(headers);
        HttpServerResponse response = request.response();
        client.request(options)
                .compose(upstream -> {
                    // the client gone, what the service does next is for nobody (a document wait, a stream of
                    // tokens): close the exchange towards it too, which also frees the connection for others
                    response.closeHandler(gone -> {
                        if (!response.ended()) {
                            upstream.reset();
                        }
                    });
                    if (response.closed()) {
                        upstream.reset();
                    }
                    return upstream.send(request);
                })
                .compose(reply -> {
                    response.setStatusCode(reply.statusCode());
                    copyHeaders(reply.headers(), response.headers());
                    if (reply.getHeader("content-length") == null) {
                        response.setChunked(true);
                    }
                    return reply.pipeTo(response);
                })
                .onFailure(e -> {
                    if (response.closed()) {
                        return;
                    }
                    if (!response.headWritten()) {
                        response.setStatusCode(502).putHeader("content-type", "application/json")
                                .end(error(target.service().name() + " is not reachable", "service_unavailable",
                                        "upstream_unreachable"));
                    } else {
                        response.reset();
                    }
                });
    }

    private static void copyHeaders(MultiMap from, MultiMap to) {
        from.forEach(header -> {
            if (!HOP_BY_HOP.contains(header.getKey().toLowerCase())) {
                to.add(header.getKey(), header.getValue());
            }
        });
    }

    /** Every service UP or DOWN, from its own {@code /q/health}; only the status word is kept. */
    private void aggregateHealth(HttpServerResponse response) {
        List<Future<Boolean>> checks = new ArrayList<>();
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            checks.add(probe(service, "/q/health"));
        }
        Future.join(checks).onComplete(done -> {
            JsonArray services = new JsonArray();
            boolean up = true;
            for (int i = 0; i < checks.size(); i++) {
                boolean serviceUp = checks.get(i).result();
                services.add(new JsonObject().put("name", LocalSettings.SERVICES.get(i).name()).put("status", status(serviceUp)));
                up &= serviceUp;
            }
            response.setStatusCode(up ? 200 : 503).putHeader("content-type", "application/json")
                    .end(new JsonObject().put("status", status(up)).put("services", services).encode());
        });
    }

    /** The inference router's {@code /health} (200 while a backend is healthy), reduced to UP or DOWN. */
    private void routerHealth(HttpServerResponse response) {
        LocalSettings.Service router = LocalSettings.SERVICES.stream()
                .filter(s -> s.name().equals("inference-router")).findFirst().orElseThrow();
        probe(router, "/health").onComplete(up -> response.setStatusCode(up.result() ? 200 : 503)
                .putHeader("content-type", "application/json")
                .end(new JsonObject().put("status", status(up.result())).encode()));
    }

    /** True when the service answers 200 with {@code "status":"UP"} (or, for the router's /health, any 200). */
    private Future<Boolean> probe(LocalSettings.Service service, String path) {
        return client.request(new RequestOptions().setHost("127.0.0.1").setPort(settings.portOf(service))
                        .setURI(path).setTimeout(3000))
                .compose(r -> r.send().compose(reply -> reply.body().map(body -> reply.statusCode() == 200
                        && (path.equals("/health") || "UP".equals(body.toJsonObject().getString("status"))))))
                .otherwise(false);
    }

    private static String status(boolean up) {
        return up ? "UP" : "DOWN";
    }

    private static String error(String message, String type, String code) {
        return new JsonObject().put("error", new JsonObject().put("message", message).put("type", type).put("code", code))
                .encode();
    }

    /** Stops listening and closes every upstream connection. */
    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // stopping anyway
        }
    }
}
