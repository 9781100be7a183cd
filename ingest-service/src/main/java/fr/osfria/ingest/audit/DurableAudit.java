package fr.osfria.ingest.audit;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.Topics;
import fr.osfria.events.audit.AuditRecord;
import fr.osfria.ingest.outbox.OutboxEvent;
import fr.osfria.ingest.outbox.OutboxRelay;
import fr.osfria.security.audit.AuditLog;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;

/**
 * The audit of this service's calls, which a Kafka outage neither loses nor turns into an error: a record the
 * broker has not taken within {@link #BROKER_WAIT} is kept in the outbox and relayed when the broker is back (the
 * audit store ignores a second copy of the same event id, should the late send land after all).
 */
@ApplicationScoped
public class DurableAudit {

    static final Duration BROKER_WAIT = Duration.ofSeconds(2);

    private final AuditLog audit;
    private final OutboxRelay relay;

    public DurableAudit(AuditLog audit, OutboxRelay relay) {
        this.audit = audit;
        this.relay = relay;
    }

    /** Same arguments as {@link AuditLog#record}; fails only when neither the broker nor PostgreSQL takes the record. */
    public Uni<Void> record(String keyName, String action, String target, String collection, String outcome, String detail) {
        return send(audit.event(keyName, action, target, collection, outcome, detail));
    }

    /**
     * The same, under the given event id: what may be recorded more than once (a Kafka application's record read
     * again) is kept once, as the audit store ignores a second copy of an event id.
     */
    public Uni<Void> recordOnce(String eventId, String keyName, String action, String target, String collection,
                                String outcome, String detail) {
        return send(audit.event(keyName, action, target, collection, outcome, detail).withId(eventId));
    }

    private Uni<Void> send(CloudEvent<AuditRecord> event) {
        return audit.send(event).ifNoItem().after(BROKER_WAIT).fail()
                .onFailure().recoverWithUni(e -> {
                    Log.warnf("audit record %s kept in the outbox (broker: %s)", event.id(), e.toString());
                    return Panache.withTransaction(() -> OutboxEvent.of(Topics.AUDIT, event).persist()).replaceWithVoid()
                            .invoke(relay::nudge);
                });
    }
}
