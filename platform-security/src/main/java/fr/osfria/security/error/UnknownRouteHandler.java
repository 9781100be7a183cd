package fr.osfria.security.error;

import io.vertx.core.json.Json;
import io.vertx.ext.web.Router;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

/** A path that no endpoint serves answers a JSON 404 instead of the HTTP server's default page. */
@Singleton
public class UnknownRouteHandler {

    void register(@Observes Router router) {
        router.route().last().handler(ctx -> ctx.response()
                .setStatusCode(404)
                .putHeader("content-type", "application/json")
                .end(Json.encode(ApiError.of("no route for " + ctx.request().method() + " " + ctx.normalizedPath(),
                        ErrorResponses.typeFor(404), "unknown_route"))));
    }
}
