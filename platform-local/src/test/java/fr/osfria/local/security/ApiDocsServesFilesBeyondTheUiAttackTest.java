package fr.osfria.local.security;

import static fr.osfria.local.security.StandInServices.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.local.EntryProxy;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The entry port serves Swagger UI's files and the API description itself. An anonymous caller asks it for other
 * files (the launcher's class path, the data directory, the key file), through the docs paths and every spelling
 * that could climb out of them, and for the services' own OpenAPI. Only the UI's fixed files and the merged
 * document come back; no service is asked anything, even with every service down.
 */
class ApiDocsServesFilesBeyondTheUiAttackTest {

    @Test
    void onlyTheUisFilesAndTheMergedDocumentAreServed() throws Exception {
        try (StandInServices services = new StandInServices(Set.of("ingest-service", "embed-service", "inference-router",
                "webhook-service", "alert-bridge"), Set.of())) {
            EntryProxy proxy = new EntryProxy(services.settings(Map.of()));
            proxy.start();
            try {
                for (String attack : List.of("/docs/../q/metrics", "/docs/%2e%2e/%2e%2e/pom.xml", "/docs/..%2f..%2fkeys.json",
                        "/docs/..;/keys.json", "/docs//etc/passwd", "/docs/%252e%252e/keys.json",
                        "/docs/META-INF/MANIFEST.MF", "/docs/META-INF/resources/openapi-ui/index.html",
                        "/docs/fr/osfria/local/Osfria.class", "/docs/swagger-ui-bundle.js.map", "/docs/index.html",
                        "/docs/theme-monokai.css", "/docs/keys.json", "/docsx", "/openapi/../keys.json",
                        "/openapi.yaml/..", "/api/v1/openapi/../../q/openapi", "/q/openapi", "/api/q/openapi")) {
                    StandInServices.Reply reply = raw("127.0.0.1", services.entryPort, "GET", attack);
                    assertTrue(reply.status() == 400 || reply.status() == 404, attack + " answered " + reply.status());
                    assertTrue(reply.body().startsWith("{\"error\":"), attack + ": " + reply.body());
                }
                assertEquals(405, raw("127.0.0.1", services.entryPort, "POST", "/openapi").status());

                // the same entry port does serve the UI, from the launcher's own class path, pointing nowhere else
                StandInServices.Reply page = raw("127.0.0.1", services.entryPort, "GET", "/docs");
                assertEquals(200, page.status(), page.body());
                assertTrue(page.body().contains("/docs/swagger-ui-bundle.js") && page.body().contains("/docs/init.js"), page.body());
                assertFalse(page.body().contains("http:") || page.body().contains("https:") || page.body().contains("//cdn"), page.body());
                for (String file : List.of("/docs/", "/docs/init.js", "/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js",
                        "/docs/favicon.ico")) {
                    StandInServices.Reply reply = raw("127.0.0.1", services.entryPort, "GET", file);
                    assertEquals(200, reply.status(), file + ": " + reply.body());
                    assertFalse(reply.body().isEmpty(), file);
                }
                assertTrue(raw("127.0.0.1", services.entryPort, "GET", "/docs/init.js").body().contains("url: \"/openapi\""));
                assertTrue(raw("127.0.0.1", services.entryPort, "GET", "/docs/swagger-ui-bundle.js").body().contains("SwaggerUIBundle"));

                // and the document, every service down: valid JSON, saying what it lacks
                StandInServices.Reply openapi = raw("127.0.0.1", services.entryPort, "GET", "/openapi");
                assertEquals(200, openapi.status(), openapi.body());
                JsonObject doc = new JsonObject(openapi.body());
                assertEquals("/api/v1", doc.getJsonArray("servers").getJsonObject(0).getString("url"));
                assertFalse(doc.getJsonArray("x-osfria-missing").isEmpty(), "this test's home has no stored documents");
                assertTrue(services.received.isEmpty(), "a service was asked: " + services.received);
            } finally {
                proxy.close();
            }
        }
    }
}
