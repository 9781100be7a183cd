package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The merged OpenAPI document, from the documents the services' builds stored (the reactor builds them before this
 * module: run with {@code -am}), checked against the entry port's routes.
 */
class ApiDocsTest {

    /** The repository: the services' modules are beside this one. */
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    private static LocalSettings settings(Path home, Map<String, String> env) {
        return LocalSettings.from(env, home);
    }

    @Test
    void theMergedDocumentHasEveryRoutedPathAndNothingElse() {
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            assertTrue(Files.isRegularFile(REPO.resolve(service.name()).resolve(ApiDocs.STORED)),
                    service.name() + " has stored no OpenAPI document: build with -am");
        }
        JsonObject doc = new JsonObject(ApiDocs.merged(settings(REPO, Map.of())).encode()); // valid JSON, read back
        assertTrue(doc.getString("openapi").startsWith("3."), doc.getString("openapi"));
        assertEquals("/api/v1", doc.getJsonArray("servers").getJsonObject(0).getString("url"));
        assertEquals("/v1", doc.getJsonArray("servers").getJsonObject(1).getString("url"));
        assertTrue(doc.getJsonArray("x-osfria-missing").isEmpty(), doc.getJsonArray("x-osfria-missing").encode());
        JsonObject paths = doc.getJsonObject("paths");

        // every path is one the entry port routes, under the base URL, to the service that described it
        for (String path : paths.fieldNames()) {
            assertFalse(path.contains("/q/") || path.startsWith("/v1") || path.startsWith("/api"), path);
            assertTrue(Routes.route("/api/v1" + path, false).isPresent(), "not routed: " + path);
        }
        // every route of the entry port is described
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            for (String prefix : service.internal() ? List.<String>of() : service.paths()) {
                String relative = prefix.substring("/v1".length());
                assertTrue(paths.fieldNames().stream().anyMatch(p -> p.equals(relative) || p.startsWith(relative.endsWith("/")
                        ? relative : relative + "/")), "no path for " + prefix + " in " + paths.fieldNames());
            }
        }
        // the operations users call, the completion routes (Vert.x, described by hand in inference-router) included
        for (String[] op : new String[][] {{"/chat/completions", "post"}, {"/completions", "post"}, {"/models", "get"},
                {"/models/{model}", "get"}, {"/documents", "post"}, {"/documents", "get"}, {"/documents/{id}", "get"},
                {"/documents/{id}", "put"}, {"/documents/{id}", "delete"}, {"/audit", "get"}, {"/search", "post"},
                {"/webhooks", "post"}, {"/webhooks", "get"}, {"/webhooks/{id}", "get"}, {"/webhooks/{id}", "put"},
                {"/webhooks/{id}", "delete"}, {"/webhooks/{id}/deliveries", "get"}, {"/webhooks/{id}/ping", "post"},
                {"/webhooks/{id}/replay", "post"}, {"/webhooks/{id}/deliveries/{delivery}/replay", "post"}}) {
            assertNotNull(paths.getJsonObject(op[0], new JsonObject()).getJsonObject(op[1]), op[1] + " " + op[0]);
        }
        assertNotNull(paths.getJsonObject("/chat/completions").getJsonObject("post").getJsonObject("requestBody"));
        // what the entry port does not route is not described
        for (String absent : List.of("/admin/kek/reseal", "/alerts/alertmanager", "/health", "/health/backends", "/metrics")) {
            assertFalse(paths.containsKey(absent), absent);
        }
        assertEveryRefResolves(doc);
    }

    @Test
    void alertBridgeIsDescribedOnlyWhenTheEntryPortRoutesIt() {
        JsonObject doc = ApiDocs.merged(settings(REPO, Map.of("OSFRIA_EXPOSE_ALERTS", "true")));
        assertTrue(doc.getJsonObject("paths").containsKey("/alerts/alertmanager"), doc.getJsonObject("paths").fieldNames().toString());
    }

    @Test
    void aMissingDocumentIsNamedAndTheRestIsServed(@TempDir Path home) throws IOException {
        store(home, "ingest-service", doc("/v1/documents", "Thing", new JsonObject().put("type", "object")));
        Files.createDirectories(home.resolve("embed-service/target/openapi"));
        Files.writeString(home.resolve("embed-service").resolve(ApiDocs.STORED), "{not json");

        JsonObject merged = ApiDocs.merged(settings(home, Map.of()));
        assertEquals(new JsonArray(List.of("embed-service", "inference-router", "webhook-service")),
                merged.getJsonArray("x-osfria-missing"));
        assertTrue(merged.getJsonObject("info").getString("description").contains("embed-service, inference-router, webhook-service"));
        assertEquals(List.of("/documents"), new ArrayList<>(merged.getJsonObject("paths").fieldNames()));
    }

    @Test
    void twoServicesNamingDifferentSchemasAlikeKeepBoth(@TempDir Path home) throws IOException {
        store(home, "ingest-service", doc("/v1/documents", "Result", new JsonObject().put("type", "object")
                .put("properties", new JsonObject().put("document_id", new JsonObject().put("type", "string")))));
        store(home, "embed-service", doc("/v1/search", "Result", new JsonObject().put("type", "object")
                .put("properties", new JsonObject().put("score", new JsonObject().put("type", "number")))));
        store(home, "webhook-service", doc("/v1/webhooks", "Result", new JsonObject().put("type", "object")
                .put("properties", new JsonObject().put("document_id", new JsonObject().put("type", "string")))));

        JsonObject merged = ApiDocs.merged(settings(home, Map.of()));
        JsonObject schemas = merged.getJsonObject("components").getJsonObject("schemas");
        assertEquals(2, schemas.size(), schemas.encode());
        assertTrue(schemas.getJsonObject("embed_service_Result").getJsonObject("properties").containsKey("score"));
        assertEquals("#/components/schemas/embed_service_Result", refOf(merged, "/search"));
        assertEquals("#/components/schemas/Result", refOf(merged, "/documents"));
        assertEquals("#/components/schemas/Result", refOf(merged, "/webhooks"), "identical schemas are kept once");
        assertEveryRefResolves(merged);
    }

    private static String refOf(JsonObject doc, String path) {
        return doc.getJsonObject("paths").getJsonObject(path).getJsonObject("get").getJsonObject("responses")
                .getJsonObject("200").getJsonObject("content").getJsonObject("application/json")
                .getJsonObject("schema").getString("$ref");
    }

    private static JsonObject doc(String path, String schema, JsonObject definition) {
        JsonObject ok = new JsonObject().put("description", "OK").put("content", new JsonObject().put("application/json",
                new JsonObject().put("schema", new JsonObject().put("$ref", "#/components/schemas/" + schema))));
        return new JsonObject().put("openapi", "3.1.0").put("info", new JsonObject().put("version", "9.9"))
                .put("paths", new JsonObject()
                        .put(path, new JsonObject().put("get", new JsonObject().put("responses", new JsonObject().put("200", ok))))
                        .put("/q/metrics", new JsonObject().put("get", new JsonObject()))
                        .put("/v1/admin/kek/reseal", new JsonObject().put("post", new JsonObject())))
                .put("components", new JsonObject().put("schemas", new JsonObject().put(schema, definition)));
    }

    private static void store(Path home, String service, JsonObject doc) throws IOException {
        Path file = home.resolve(service).resolve(ApiDocs.STORED);
        Files.createDirectories(file.getParent());
        Files.writeString(file, doc.encode());
    }

    /** Every {@code $ref} names a component the document has. */
    private static void assertEveryRefResolves(JsonObject doc) {
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertFalse(refs.isEmpty());
        for (String ref : refs) {
            String[] parts = ref.split("/");
            assertEquals(4, parts.length, ref);
            assertNotNull(doc.getJsonObject("components").getJsonObject(parts[2], new JsonObject()).getValue(parts[3]), ref);
        }
    }

    private static void collectRefs(Object value, List<String> refs) {
        if (value instanceof JsonObject object) {
            for (String field : object.fieldNames()) {
                if (field.equals("$ref")) {
                    refs.add(object.getString(field));
                } else {
                    collectRefs(object.getValue(field), refs);
                }
            }
        } else if (value instanceof JsonArray array) {
            array.forEach(v -> collectRefs(v, refs));
        }
    }
}
