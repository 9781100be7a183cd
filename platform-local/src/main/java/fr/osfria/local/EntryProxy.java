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
 * The one entry port: routes each request to its service (see {@link Routes}) and streams bodies both ways
 * without buffering, so server-sent events pass token by token. {@code /q/health} answers for all services.
 */
final class EntryProxy implements AutoCloseable {

    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host");

    private final LocalSettings settings;
    private final Vertx vertx = Vertx.vertx();
    private final HttpClient client;
    private HttpServer server;

    EntryProxy(LocalSettings settings) {
        this.settings = settings;
        this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5000).setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(64));
    }

    void start() {
        try {
            server = vertx.createHttpServer().requestHandler(this::handle)
                    .listen(settings.entryPort(), "0.0.0.0")
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new LocalPlatformException("cannot listen on entry port " + settings.entryPort() + ": " + e.getMessage(), e);
        }
    }

    private void handle(HttpServerRequest request) {
        String path = request.path();
        if ("/q/health".equals(path) || "/q/health/".equals(path)) {
            aggregateHealth(request.response());
            return;
        }
        Routes.route(path).ifPresentOrElse(target -> forward(request, target), () -> request.response()
                .setStatusCode(404).putHeader("content-type", "application/json")
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
                .compose(upstream -> upstream.send(request).compose(reply -> {
                    response.setStatusCode(reply.statusCode());
                    copyHeaders(reply.headers(), response.headers());
                    if (reply.getHeader("content-length") == null) {
                        response.setChunked(true);
                    }
                    return reply.pipeTo(response);
                }))
                .onFailure(e -> {
                    if (!response.headWritten()) {
                        response.setStatusCode(502).putHeader("content-type", "application/json")
                                .end(error(target.service().name() + " is not reachable: " + e.getMessage(),
                                        "service_unavailable", "upstream_unreachable"));
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

    private void aggregateHealth(HttpServerResponse response) {
        List<Future<JsonObject>> checks = new ArrayList<>();
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            checks.add(client.request(new RequestOptions().setHost("127.0.0.1").setPort(settings.portOf(service))
                            .setURI("/q/health").setTimeout(3000))
                    .compose(r -> r.send().compose(reply -> reply.body()))
                    .map(body -> new JsonObject().put("name", service.name())
                            .put("status", body.toJsonObject().getString("status", "DOWN")))
                    .otherwise(e -> new JsonObject().put("name", service.name()).put("status", "DOWN")
                            .put("error", String.valueOf(e.getMessage()))));
        }
        Future.join(checks).onComplete(done -> {
            JsonArray services = new JsonArray();
            boolean up = true;
            for (Future<JsonObject> f : checks) {
                services.add(f.result());
                up &= "UP".equals(f.result().getString("status"));
            }
            response.setStatusCode(up ? 200 : 503).putHeader("content-type", "application/json")
                    .end(new JsonObject().put("status", up ? "UP" : "DOWN").put("services", services).encode());
        });
    }

    private static String error(String message, String type, String code) {
        return new JsonObject().put("error", new JsonObject().put("message", message).put("type", type).put("code", code))
                .encode();
    }

    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // stopping anyway
        }
    }
}
