package fr.osfria.alert.publish;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventTypes;
import fr.osfria.events.alert.Alert;
import fr.osfria.security.messaging.EventMessages;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;

/** Publishes {@code alert.triggered} / {@code alert.resolved} on the public event topic. */
@ApplicationScoped
public class AlertPublisher {

    public static final String PUBLIC_EVENTS = "public-events";
    static final String SOURCE = "/osfria/alert-bridge";

    private final MutinyEmitter<String> emitter;

    public AlertPublisher(@Channel(PUBLIC_EVENTS) MutinyEmitter<String> emitter) {
        this.emitter = emitter;
    }

    public Uni<Void> publish(Alert alert) {
        String type = "resolved".equals(alert.status()) ? EventTypes.ALERT_RESOLVED : EventTypes.ALERT_TRIGGERED;
        return emitter.sendMessage(EventMessages.of(CloudEvent.of(SOURCE, type, alert.fingerprint(), alert)));
    }
}
