package fr.osfria.security.rights;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventTypes;
import fr.osfria.security.key.KeyEntry;
import java.util.Set;

/**
 * Who may receive a public event (as a webhook): the one rule, read from the event's data in the public API's
 * snake_case shape (what a delivery body carries). Admins receive everything. Otherwise:
 * <ul>
 * <li>{@code document.*}: by the read rule of {@code GET /v1/documents/{id}} ({@link Rights#canRead}) on the
 * event's {@code collection}, {@code department} and {@code confidential}; an event that does not say whether it is
 * confidential reaches admins only;</li>
 * <li>{@code usage.threshold}: only about the key itself ({@code key_name});</li>
 * <li>{@code model.*}, {@code alert.*}: the {@code ops} role;</li>
 * <li>{@code webhook.*}: the owner of the subscription concerned ({@code subscription_id}), which the caller looks
 * up (see {@link #concernedSubscription});</li>
 * <li>{@code app.NAME.*} (a Kafka application's own events): the application's key itself, and keys that may read
 * everything it may read or write ({@link Rights#canReadAllOf}); the application's key is looked up by the caller
 * (see {@link #producingApplication}), and an application revoked or unknown reaches admins only;</li>
 * <li>any other type: admins only.</li>
 * </ul>
 * A revoked key, or no key, receives nothing.
 */
public final class EventAudience {

    private static final Set<String> DOCUMENT_EVENTS = Set.of(EventTypes.DOCUMENT_INDEXED, EventTypes.DOCUMENT_FAILED,
            EventTypes.DOCUMENT_DELETED);

    /**
     * @param data           the event's data, snake_case
     * @param concernedOwner for {@code webhook.*}: the owner of {@link #concernedSubscription}, null if unknown
     */
    public static boolean mayReceive(KeyEntry key, String type, JsonNode data, String concernedOwner) {
        return mayReceive(key, type, data, concernedOwner, null);
    }

    /**
     * @param producer for {@code app.NAME.*}: the active key of {@link #producingApplication}, null if there is none
     */
    public static boolean mayReceive(KeyEntry key, String type, JsonNode data, String concernedOwner, KeyEntry producer) {
        if (key == null || key.revoked()) {
            return false;
        }
        if (key.admin()) {
            return true;
        }
        String application = producingApplication(type);
        if (application != null) {
            return producer != null && !producer.revoked() && producer.kafkaApplication()
                    && producer.name().equals(application)
                    && (key.name().equals(application) || Rights.canReadAllOf(key, producer));
        }
        return mayReceiveDirect(key, type, data, concernedOwner);
    }

    private static boolean mayReceiveDirect(KeyEntry key, String type, JsonNode data, String concernedOwner) {
        if (key == null || key.revoked()) {
            return false;
        }
        if (key.admin()) {
            return true;
        }
        if (type == null || data == null || !data.isObject()) {
            return false;
        }
        if (DOCUMENT_EVENTS.contains(type)) {
            JsonNode confidential = data.get("confidential");
            return confidential != null && confidential.isBoolean()
                    && Rights.canRead(key, text(data, "collection"), text(data, "department"), confidential.booleanValue());
        }
        if (EventTypes.USAGE_THRESHOLD.equals(type)) {
            return key.name().equals(text(data, "key_name"));
        }
        if (type.startsWith("model.") || type.startsWith("alert.")) {
            return key.ops();
        }
        if (type.startsWith("webhook.")) {
            return concernedOwner != null && key.name().equals(concernedOwner);
        }
        return false;
    }

    /**
     * The Kafka application whose event this is ({@code app.NAME.…}: NAME), or null. webhook-service takes such a
     * type only from that application's own topic, so the type names its producer.
     */
    public static String producingApplication(String type) {
        if (type == null || !type.startsWith(EventTypes.APPLICATION_PREFIX)) {
            return null;
        }
        int end = type.indexOf('.', EventTypes.APPLICATION_PREFIX.length());
        return end > EventTypes.APPLICATION_PREFIX.length() ? type.substring(EventTypes.APPLICATION_PREFIX.length(), end) : null;
    }

    /** The subscription whose owner decides who receives this event ({@code webhook.*}), or null. */
    public static String concernedSubscription(String type, JsonNode data) {
        return type != null && type.startsWith("webhook.") && data != null && data.isObject()
                ? text(data, "subscription_id") : null;
    }

    private static String text(JsonNode data, String field) {
        JsonNode value = data.get(field);
        return value != null && value.isTextual() ? value.textValue() : null;
    }

    private EventAudience() {
    }
}
