package fr.osfria.router.console;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The web console's files are static resources of the {@code console} module's jar
 * ({@code META-INF/resources/console/}), served by Quarkus with the strict headers of the {@code console} HTTP filter
 * (application.properties). This only sends {@code /console} to {@code /console/}, so that the page's relative
 * script and style paths resolve inside the console. The console has no privilege: it calls the public API with the
 * key its user types.
 */
@ApplicationScoped
public class ConsoleRoute {

    void routes(@Observes Router router) {
        // a regular expression: a plain "/console" route would also take "/console/", and redirect it to itself
        router.getWithRegex("/console").order(-10).handler(ctx -> ctx.response().setStatusCode(302)
                .putHeader("location", "/console/").putHeader("cache-control", "no-store").end());
    }
}
