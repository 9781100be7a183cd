package fr.osfria.webhook.event;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Takes in every public event once: a redelivered event (same CloudEvent id) changes nothing. A record that is
 * not a CloudEvent fails here and goes to the dead-letter topic with the reason.
 */
@ApplicationScoped
public class PublicEventListener {

    public static final String PUBLIC_EVENTS = "public-events";

    private final MeterRegistry metrics;
    private final fr.osfria.webhook.delivery.DeliverySender sender;

    public PublicEventListener(MeterRegistry metrics, fr.osfria.webhook.delivery.DeliverySender sender) {
        this.metrics = metrics;
        this.sender = sender;
    }

    @Incoming(PUBLIC_EVENTS)
    @WithTransaction
    public Uni<Void> receive(String json) {
        CloudEvent<JsonNode> event = EventJson.decode(json, JsonNode.class);
        return Panache.getSession().chain(session -> session.createNativeQuery("""
                        INSERT INTO received_event (event_id, type, subject, received_at)
                        VALUES (:id, :type, :subject, :at) ON CONFLICT (event_id) DO NOTHING""")
                .setParameter("id", event.id())
                .setParameter("type", event.type())
                .setParameter("subject", event.subject())
                .setParameter("at", Instant.now())
                .executeUpdate())
                .chain(inserted -> {
                    if (inserted == 0) {
                        Log.debugf("event %s seen before; ignored", event.id());
                        return Uni.createFrom().voidItem();
                    }
                    metrics.counter("osfria.webhook.events.received", "type", event.type()).increment();
                    return recordDeliveries(event);
                })
                .call(() -> Uni.createFrom().voidItem().invoke(sender::wake))
                .replaceWithVoid();
    }

    /** The public API speaks snake_case ({@code document_id}); event records are Java records in camelCase. */
    static JsonNode snakeCase(JsonNode node) {
        if (node.isObject()) {
            com.fasterxml.jackson.databind.node.ObjectNode out = EventJson.MAPPER.createObjectNode();
            node.fields().forEachRemaining(f -> out.set(f.getKey().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(),
                    snakeCase(f.getValue())));
            return out;
        }
        if (node.isArray()) {
            com.fasterxml.jackson.databind.node.ArrayNode out = EventJson.MAPPER.createArrayNode();
            node.forEach(v -> out.add(snakeCase(v)));
            return out;
        }
        return node;
    }

    /**
     * One delivery per active subscription that wants this type, in the same transaction as the event's record:
     * if the transaction commits, every delivery exists; if the event comes again, none is added twice.
     */
    private Uni<Integer> recordDeliveries(CloudEvent<JsonNode> event) {
        com.fasterxml.jackson.databind.node.ObjectNode body = EventJson.MAPPER.createObjectNode();
        body.put("event", event.type());
        body.put("timestamp", event.time().toString());
        body.set("data", snakeCase(event.data()));
        Instant now = Instant.now();
        return Panache.getSession().chain(session -> session.createNativeQuery("""
                        INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at, created_at)
                        SELECT 'msg_' || md5(s.id || :eventId), s.id, :eventId, :type, :body, 'PENDING', 0, :now, :now
                        FROM subscription s
                        WHERE s.active AND (s.events = '*' OR (',' || s.events || ',') LIKE ('%,' || :type || ',%'))
                        ON CONFLICT (subscription_id, event_id) DO NOTHING""")
                .setParameter("eventId", event.id())
                .setParameter("type", event.type())
                .setParameter("body", body.toString())
                .setParameter("now", now)
                .executeUpdate());
    }
}
