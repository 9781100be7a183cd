package fr.osfria.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code docs/asyncapi.yaml}: its payload schemas, to check its examples and the records the services publish in
 * their tests (ingest-service, webhook-service) against.
 */
public final class AsyncApiContract {

    public static final Path FILE = Path.of("").toAbsolutePath().getParent().resolve("docs/asyncapi.yaml");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonNode document;

    public static synchronized JsonNode document() {
        if (document == null) {
            try {
                document = YAML.readTree(Files.readString(FILE));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return document;
    }

    /** The schema {@code components.schemas.<name>} (each is self-contained: no reference to another). */
    public static JsonSchema schema(String name) {
        JsonNode node = document().path("components").path("schemas").path(name);
        if (node.isMissingNode()) {
            throw new AssertionError("docs/asyncapi.yaml has no schema " + name);
        }
        return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(node);
    }

    /** Fails, with the violations, unless {@code json} matches the schema {@code name}. */
    public static void assertValid(String name, String json) {
        try {
            assertValid(name, JSON.readTree(json));
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    public static void assertValid(String name, JsonNode value) {
        Set<ValidationMessage> errors = schema(name).validate(value);
        if (!errors.isEmpty()) {
            throw new AssertionError("does not match docs/asyncapi.yaml's " + name + ": " + errors + "\n" + value);
        }
    }

    private AsyncApiContract() {
    }
}
