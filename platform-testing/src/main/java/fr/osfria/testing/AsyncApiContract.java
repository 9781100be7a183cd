package fr.osfria.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * {@code docs/asyncapi.yaml}: its payload schemas, to check its examples and the records the services publish in
 * their tests against. {@link TopicProbe} checks every record it reads from a topic the document names literally
 * (the public events) with {@link #assertPublished}.
 */
public final class AsyncApiContract {

    public static final Path FILE = Path.of("").toAbsolutePath().getParent().resolve("docs/asyncapi.yaml");
    /**
     * The {@code source} of the events tests write themselves onto the platform's topics (fixtures, some of them
     * deliberately incomplete): not the services' records, so not the contract's.
     */
    public static final String TEST_SOURCE = "/osfria/test";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<JsonNode, JsonSchema> SCHEMAS = new ConcurrentHashMap<>();
    private static JsonNode document;
    private static Map<String, Map<String, JsonNode>> messagesByTopic;

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

    /** The schema {@code components.schemas.<name>}, its {@code $ref}s to other schemas of the document inlined. */
    public static JsonSchema schema(String name) {
        JsonNode node = document().path("components").path("schemas").path(name);
        if (node.isMissingNode()) {
            throw new AssertionError("docs/asyncapi.yaml has no schema " + name);
        }
        return compiled(node);
    }

    /** Fails, with the violations, unless {@code json} matches the schema {@code name}. */
    public static void assertValid(String name, String json) {
        assertValid(name, parse(json));
    }

    public static void assertValid(String name, JsonNode value) {
        assertMatches(schema(name), value, "docs/asyncapi.yaml's " + name);
    }

    /**
     * Fails unless a record of a topic the document names literally (a channel without parameters: the public
     * events) is one of that channel's messages: its {@code type} names a message, whose payload, headers and key
     * schemas it matches, and its key is its {@code subject}. Records of other topics, and events tests wrote
     * themselves ({@link #TEST_SOURCE}), are not checked here.
     */
    public static void assertPublished(ConsumerRecord<String, String> record) {
        Map<String, JsonNode> messages = messagesByTopic().get(record.topic());
        if (messages == null) {
            return;
        }
        JsonNode value = parse(record.value());
        if (TEST_SOURCE.equals(value.path("source").asText())) {
            return;
        }
        String type = value.path("type").asText();
        JsonNode message = messages.get(type);
        if (message == null) {
            throw new AssertionError("a record of " + record.topic() + " has type '" + type + "', which no message of "
                    + "docs/asyncapi.yaml's channel for that topic describes (describe it there): " + value);
        }
        String what = "docs/asyncapi.yaml's message " + type;
        assertMatches(compiled(message.path("payload")), value, what + " (payload)");
        ObjectNode headers = JSON.createObjectNode();
        for (Header h : record.headers()) {
            headers.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
        }
        if (message.has("headers")) {
            assertMatches(compiled(message.path("headers")), headers, what + " (headers)");
        }
        JsonNode key = message.path("bindings").path("kafka").path("key");
        if (!key.isMissingNode()) {
            assertMatches(compiled(key), record.key() == null ? NullNode.getInstance() : TextNode.valueOf(record.key()),
                    what + " (key)");
        }
        if (!Objects.equals(record.key(), value.path("subject").asText(null))) {
            throw new AssertionError(what + ": the record key '" + record.key() + "' is not the event's subject: " + value);
        }
    }

    /** Literal channel addresses to their messages by name (a public event's message name is its type). */
    private static synchronized Map<String, Map<String, JsonNode>> messagesByTopic() {
        if (messagesByTopic == null) {
            Map<String, Map<String, JsonNode>> topics = new HashMap<>();
            document().path("channels").forEach(channel -> {
                String address = channel.path("address").asText();
                if (address.contains("{")) {
                    return; // an application's topics: their tests check them with assertValid
                }
                Map<String, JsonNode> byName = new HashMap<>();
                channel.path("messages").forEach(m -> {
                    JsonNode message = inline(m);
                    byName.put(message.path("name").asText(), message);
                });
                topics.put(address, byName);
            });
            messagesByTopic = topics;
        }
        return messagesByTopic;
    }

    private static JsonSchema compiled(JsonNode schema) {
        return SCHEMAS.computeIfAbsent(schema,
                s -> JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(inline(s)));
    }

    /** A copy of {@code node} with each {@code {"$ref": "#/..."}} replaced by what it points to in the document. */
    static JsonNode inline(JsonNode node) {
        if (node.isObject()) {
            JsonNode ref = node.get("$ref");
            if (ref != null && ref.isTextual() && ref.asText().startsWith("#/")) {
                JsonNode target = document().at(ref.asText().substring(1));
                if (target.isMissingNode()) {
                    throw new AssertionError("docs/asyncapi.yaml: " + ref.asText() + " points to nothing");
                }
                return inline(target);
            }
            ObjectNode copy = JSON.createObjectNode();
            node.fields().forEachRemaining(f -> copy.set(f.getKey(), inline(f.getValue())));
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = JSON.createArrayNode();
            node.forEach(v -> copy.add(inline(v)));
            return copy;
        }
        return node;
    }

    private static void assertMatches(JsonSchema schema, JsonNode value, String what) {
        Set<ValidationMessage> errors = schema.validate(value);
        if (!errors.isEmpty()) {
            throw new AssertionError("does not match " + what + ": " + errors + "\n" + value);
        }
    }

    private static JsonNode parse(String json) {
        if (json == null) {
            throw new AssertionError("a record without a value");
        }
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    private AsyncApiContract() {
    }
}
