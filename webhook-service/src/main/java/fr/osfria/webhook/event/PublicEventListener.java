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

    public PublicEventListener(MeterRegistry metrics) {
        this.metrics = metrics;
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
                .invoke(inserted -> {
                    if (inserted == 0) {
                        Log.debugf("event %s seen before; ignored", event.id());
                    } else {
                        metrics.counter("osfria.webhook.events.received", "type", event.type()).increment();
                    }
                })
                .replaceWithVoid();
    }
}
