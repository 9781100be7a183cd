package fr.osfria.local;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the entry port serves itself about the API: {@code GET /openapi} (the merged document, {@link ApiDocs}) and
 * {@code GET /docs} (Swagger UI on it). The UI's files come from Quarkus's own Swagger UI jar
 * ({@code io.smallrye:smallrye-open-api-ui}, on the launcher's class path): a fixed list of names, nothing else,
 * and nothing fetched from outside (the page's policy allows this origin only).
 */
final class DocsPages {

    /** Files under {@code /docs/}: name → class path resource and media type. Nothing else is served. */
    private static final Map<String, String[]> FILES = Map.of(
            "", new String[] {"fr/osfria/local/docs/index.html", "text/html; charset=utf-8"},
            "init.js", new String[] {"fr/osfria/local/docs/init.js", "text/javascript; charset=utf-8"},
            "swagger-ui.css", new String[] {"META-INF/resources/openapi-ui/swagger-ui.css", "text/css; charset=utf-8"},
            "swagger-ui-bundle.js", new String[] {"META-INF/resources/openapi-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
            "favicon.ico", new String[] {"META-INF/resources/openapi-ui/favicon.ico", "image/x-icon"});
    private static final String POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            + "script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

    private final Vertx vertx;
    private final LocalSettings settings;
    private final Map<String, Buffer> cache = new ConcurrentHashMap<>();

    DocsPages(Vertx vertx, LocalSettings settings) {
        this.vertx = vertx;
        this.settings = settings;
    }

    /** Whether a (canonical) path is one of these pages. */
    static boolean serves(String path) {
        return path.equals("/openapi") || path.equals("/openapi.json") || path.equals("/docs") || path.startsWith("/docs/");
    }

    void handle(HttpServerRequest request) {
        HttpServerResponse response = request.response();
        if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
            error(response.putHeader("allow", "GET, HEAD"), 405, "only GET reads the API description",
                    "invalid_request_error", "method_not_allowed");
            return;
        }
        String path = request.path();
        if (path.startsWith("/openapi")) {
            vertx.executeBlocking(() -> ApiDocs.merged(settings).encodePrettily()).onComplete(done -> {
                if (done.succeeded()) {
                    response.putHeader("content-type", "application/json").putHeader("cache-control", "no-cache")
                            .end(done.result());
                } else {
                    error(response, 500, "the API description could not be built", "server_error", "internal_error");
                }
            });
            return;
        }
        String name = path.equals("/docs") ? "" : path.substring("/docs/".length());
        String[] file = FILES.get(name);
        if (file == null) {
            error(response, 404, "no such page of the API documentation", "not_found_error", "unknown_route");
            return;
        }
        vertx.executeBlocking(() -> cache.computeIfAbsent(name, n -> load(file[0]))).onComplete(done -> {
            if (done.failed()) {
                error(response, 500, "the API documentation is not packaged with this launcher", "server_error",
                        "internal_error");
                return;
            }
            response.putHeader("content-type", file[1]).putHeader("x-content-type-options", "nosniff")
                    .putHeader("content-security-policy", POLICY).end(done.result());
        });
    }

    private static Buffer load(String resource) {
        try (InputStream in = DocsPages.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new UncheckedIOException(new IOException("missing " + resource));
            }
            return Buffer.buffer(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void error(HttpServerResponse response, int status, String message, String type, String code) {
        response.setStatusCode(status).putHeader("content-type", "application/json").end(new JsonObject()
                .put("error", new JsonObject().put("message", message).put("type", type).put("code", code)).encode());
    }
}
