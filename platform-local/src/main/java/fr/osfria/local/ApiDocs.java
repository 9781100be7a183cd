package fr.osfria.local;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The platform's one OpenAPI document: the services' own documents merged, reduced to the paths the entry port routes
 * ({@link Routes}, so the document and the routing cannot disagree), under the base URL {@code /api/v1}.
 *
 * <p>Each service's build stores its generated document (completion routes included: inference-router describes
 * those Vert.x routes in its {@code META-INF/openapi.yaml}) in {@code <module>/target/openapi/openapi.json}, next to
 * the packaged app the launcher runs. Merging those files rather than the services' live {@code /q/openapi} means the
 * entry port answers the same whether a service is up, restarting or down, asks no service anything, and describes
 * exactly the build it runs. A document that is missing or unreadable is left out and named in the answer
 * ({@code x-osfria-missing} and the description).
 */
public final class ApiDocs {

    /** Where each service's build stores its document, relative to its module directory. */
    public static final String STORED = "target/openapi/openapi.json";
    public static final String BASE_URL = Routes.API_PREFIX + "/v1";
    private static final String V1 = "/v1";
    private static final String REFERENCE = "docs/api/README.md";

    private ApiDocs() {
    }

    /** The merged document for the services this entry port exposes. */
    public static JsonObject merged(LocalSettings settings) {
        JsonObject paths = new JsonObject();
        JsonObject components = new JsonObject();
        List<String> included = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        String openapi = "3.1.0";
        String version = "unknown";
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            if (!settings.exposes(service)) {
                continue;
            }
            Optional<JsonObject> read = read(settings.home().resolve(service.name()).resolve(STORED));
            if (read.isEmpty()) {
                missing.add(service.name());
                continue;
            }
            JsonObject doc = read.get();
            included.add(service.name());
            openapi = doc.getString("openapi", openapi);
            version = doc.getJsonObject("info", new JsonObject()).getString("version", version);
            Map<String, String> renames = renamesFor(service, doc, components);
            doc = (JsonObject) withRefsRenamed(doc, renames);
            addPaths(settings, service, doc.getJsonObject("paths", new JsonObject()), paths);
            addComponents(service, doc.getJsonObject("components", new JsonObject()), components, renames);
        }
        components.put("securitySchemes", new JsonObject().put("apiKey", new JsonObject().put("type", "http")
                .put("scheme", "bearer").put("description", "An Osfria API key: `Authorization: Bearer sk-osfria-…`")));
        StringBuilder description = new StringBuilder("Osfria's public API as the entry port routes it. `")
                .append(BASE_URL).append("/X` and `/v1/X` are the same API. Every call needs `Authorization: Bearer <API key>`. ")
                .append("Errors: `{\"error\":{\"message\",\"type\",\"code\"}}`. The full reference, with rights, limits, ")
                .append("error codes and webhook signatures, is `").append(REFERENCE).append("` in Osfria's repository.");
        if (!missing.isEmpty()) {
            description.append("\n\n**Incomplete**: no stored document for ").append(String.join(", ", missing))
                    .append(" (build it: `./mvnw -B -DskipTests package`); its paths are not listed here.");
        }
        JsonArray tags = new JsonArray();
        included.forEach(name -> tags.add(new JsonObject().put("name", name)));
        return new JsonObject()
                .put("openapi", openapi)
                .put("info", new JsonObject().put("title", "Osfria API").put("version", version)
                        .put("description", description.toString()))
                .put("servers", new JsonArray()
                        .add(new JsonObject().put("url", BASE_URL).put("description", "the documented base URL"))
                        .add(new JsonObject().put("url", V1).put("description", "the same API")))
                .put("security", new JsonArray().add(new JsonObject().put("apiKey", new JsonArray())))
                .put("tags", tags)
                .put("paths", paths)
                .put("components", components)
                .put("x-osfria-missing", new JsonArray(missing));
    }

    /** A service's stored document, or empty when it is absent or not a JSON object. */
    static Optional<JsonObject> read(Path file) {
        try {
            return Optional.of(new JsonObject(Files.readString(file)));
        } catch (IOException | DecodeException | ClassCastException e) {
            return Optional.empty();
        }
    }

    /**
     * The service's paths that the entry port routes to it, relative to the base URL ({@code /v1/search} →
     * {@code /search}); everything else (operations endpoints, admin paths, the router's {@code /health}) is left out.
     */
    private static void addPaths(LocalSettings settings, LocalSettings.Service service, JsonObject from, JsonObject to) {
        for (String path : from.fieldNames()) {
            Optional<Routes.Target> target = Routes.route(path, settings.exposeAlerts());
            if (!path.startsWith(V1 + "/") || target.isEmpty() || !target.get().service().equals(service)) {
                continue;
            }
            JsonObject item = from.getJsonObject(path).copy();
            for (String method : item.fieldNames()) {
                if (item.getValue(method) instanceof JsonObject operation) {
                    operation.put("tags", new JsonArray().add(service.name())); // Swagger UI groups by service
                }
            }
            to.put(path.substring(V1.length()), item);
        }
    }

    /**
     * Component names two services use for different things ({@code Result}, {@code Model}…) are renamed in the later
     * service's document ({@code webhook_service_Result}); identical ones are kept once.
     */
    private static Map<String, String> renamesFor(LocalSettings.Service service, JsonObject doc, JsonObject merged) {
        Map<String, String> renames = new HashMap<>();
        JsonObject components = doc.getJsonObject("components", new JsonObject());
        for (String section : components.fieldNames()) {
            JsonObject mine = components.getJsonObject(section);
            JsonObject theirs = merged.getJsonObject(section, new JsonObject());
            for (String name : mine.fieldNames()) {
                if (theirs.containsKey(name) && !theirs.getValue(name).equals(mine.getValue(name))) {
                    renames.put("#/components/" + section + "/" + name,
                            "#/components/" + section + "/" + service.name().replace('-', '_') + "_" + name);
                }
            }
        }
        return renames;
    }

    private static void addComponents(LocalSettings.Service service, JsonObject from, JsonObject to,
                                      Map<String, String> renames) {
        for (String section : from.fieldNames()) {
            JsonObject target = to.getJsonObject(section);
            if (target == null) {
                target = new JsonObject();
                to.put(section, target);
            }
            JsonObject entries = from.getJsonObject(section);
            for (String name : entries.fieldNames()) {
                String ref = renames.getOrDefault("#/components/" + section + "/" + name, "/" + name);
                target.put(ref.substring(ref.lastIndexOf('/') + 1), entries.getValue(name));
            }
        }
    }

    /** A copy of a JSON value with each {@code $ref} in {@code renames} replaced. */
    private static Object withRefsRenamed(Object value, Map<String, String> renames) {
        if (value instanceof JsonObject object) {
            JsonObject copy = new JsonObject();
            for (String field : object.fieldNames()) {
                Object v = object.getValue(field);
                copy.put(field, field.equals("$ref") && v instanceof String ref
                        ? renames.getOrDefault(ref, ref) : withRefsRenamed(v, renames));
            }
            return copy;
        }
        if (value instanceof JsonArray array) {
            JsonArray copy = new JsonArray();
            array.forEach(v -> copy.add(withRefsRenamed(v, renames)));
            return copy;
        }
        return value;
    }
}
