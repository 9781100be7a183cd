package fr.osfria.webhook.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.security.key.KeyEntry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Set;

/**
 * A record of {@code osfria.app.<name>.events.v1} checked: a CloudEvent 1.0 in structured JSON mode, no larger than
 * {@link #MAX_RECORD_BYTES}, with no attribute the contract does not name, whose {@code type} is under the
 * application's own prefix ({@code app.<name>.}) and declared by its key. The application is the topic's, never a
 * field of the record. What is wrong is a {@link Refused} whose message is the reason (for the dead letter).
 */
final class ApplicationEvent {

    /** The largest record taken (its JSON, in UTF-8): a webhook body, not a file. */
    static final int MAX_RECORD_BYTES = 64 * 1024;
    static final int MAX_ID_CHARS = 128;
    static final int MAX_TEXT_CHARS = 256;
    private static final Set<String> ATTRIBUTES = Set.of("specversion", "id", "source", "type", "time", "subject",
            "datacontenttype", "data");

    /** Why a record is refused; its message is the dead letter's reason. */
    static final class Refused extends RuntimeException {
        /** Refused for want of the application's key or of a declared type: the key file may be newer. */
        final boolean byKey;

        Refused(String reason) {
            this(reason, false);
        }

        Refused(String reason, boolean byKey) {
            super(reason, null, false, false);
            this.byKey = byKey;
        }
    }

    /** The record as JSON, or null when it is not a JSON object within the size (the dead letter keeps its size only). */
    static JsonNode asJsonObject(String value) {
        if (value == null || bytes(value) > MAX_RECORD_BYTES) {
            return null;
        }
        try {
            JsonNode root = EventJson.MAPPER.readTree(value);
            return root != null && root.isObject() ? root : null;
        } catch (JsonProcessingException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The event to take in, with an id of the application's own ({@code app:<name>:<id>}), so that no application's
     * ids can collide with another's or with the platform's public events.
     *
     * @param key the application's active key, null when there is none
     */
    static CloudEvent<JsonNode> parse(String app, KeyEntry key, String value) {
        int size = value == null ? 0 : bytes(value);
        if (size > MAX_RECORD_BYTES) {
            throw new Refused("the record is " + size + " bytes; an event is at most " + MAX_RECORD_BYTES);
        }
        JsonNode root;
        try {
            root = value == null ? null : EventJson.MAPPER.readTree(value);
        } catch (JsonProcessingException e) {
            throw new Refused("the record is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new Refused("the record is not a JSON object (a CloudEvent)");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!ATTRIBUTES.contains(name)) {
                throw new Refused("unknown attribute '" + name + "': an event has only " + new java.util.TreeSet<>(ATTRIBUTES));
            }
        }
        if (!CloudEvent.SPEC_VERSION.equals(text(root, "specversion"))) {
            throw new Refused("'specversion' must be \"1.0\" (a CloudEvent in structured JSON mode)");
        }
        String id = required(root, "id", MAX_ID_CHARS);
        String source = required(root, "source", MAX_TEXT_CHARS);
        String type = text(root, "type");
        String prefix = KeyEntry.eventTypePrefix(app);
        if (type == null || !type.startsWith(prefix)) {
            throw new Refused("'type' " + (type == null ? "is missing" : "'" + type + "' is not under this application's prefix")
                    + ": the types of " + app + " start with " + prefix);
        }
        if (key == null) {
            throw new Refused("no active Kafka application key named '" + app + "' (revoked?)", true);
        }
        if (!key.declaresEventType(type)) {
            throw new Refused("'type' '" + type + "' is not declared by application " + app + " (declared: "
                    + (key.eventTypes() == null ? "none" : String.join(", ", key.eventTypes()))
                    + "; ./osfria keys event-types " + app + " TYPES)", true);
        }
        Instant time = Instant.now();
        if (root.has("time")) {
            try {
                time = OffsetDateTime.parse(String.valueOf(text(root, "time"))).toInstant();
            } catch (DateTimeParseException e) {
                throw new Refused("'time' must be an RFC 3339 date-time");
            }
        }
        String subject = null;
        if (root.has("subject")) {
            subject = required(root, "subject", MAX_TEXT_CHARS);
        }
        if (root.has("datacontenttype") && !CloudEvent.JSON.equals(text(root, "datacontenttype"))) {
            throw new Refused("'datacontenttype' must be \"application/json\"");
        }
        if (!root.path("data").isObject()) {
            throw new Refused("'data' must be a JSON object");
        }
        return new CloudEvent<>(CloudEvent.SPEC_VERSION, "app:" + app + ":" + id, source, type, time, subject,
                CloudEvent.JSON, root.get("data"));
    }

    private static String required(JsonNode root, String field, int max) {
        String value = text(root, field);
        if (value == null || value.isBlank() || value.length() > max) {
            throw new Refused("'" + field + "' is required, 1-" + max + " characters");
        }
        return value;
    }

    private static String text(JsonNode root, String field) {
        JsonNode node = root.get(field);
        return node != null && node.isTextual() ? node.textValue() : null;
    }

    private static int bytes(String value) {
        // a Kafka string record is UTF-8; at most 3 bytes per UTF-16 unit, so the exact count is needed only near the bound
        return value.length() * 3L <= MAX_RECORD_BYTES ? value.length() : value.getBytes(StandardCharsets.UTF_8).length;
    }

    private ApplicationEvent() {
    }
}
