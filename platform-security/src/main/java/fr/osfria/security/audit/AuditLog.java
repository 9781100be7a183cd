package fr.osfria.security.audit;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventTypes;
import fr.osfria.events.audit.AuditRecord;
import fr.osfria.security.messaging.EventMessages;
import io.quarkus.arc.Unremovable;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;

/** Publishes audit records to the audit topic. The returned Uni completes when the broker has the record. */
@ApplicationScoped
@Unremovable
public class AuditLog {

    /** Channel name; its topic is set in this module's default configuration. */
    public static final String CHANNEL = "audit";

    private final MutinyEmitter<String> emitter;
    private final String service;

    public AuditLog(@Channel(CHANNEL) MutinyEmitter<String> emitter,
                    @ConfigProperty(name = "quarkus.application.name") String service) {
        this.emitter = emitter;
        this.service = service;
    }

    /**
     * @param outcome {@code ok}, {@code denied}, {@code not_found}, {@code invalid} or {@code error}
     */
    public Uni<Void> record(String keyName, String action, String target, String collection, String outcome, String detail) {
        return send(event(keyName, action, target, collection, outcome, detail));
    }

    /** The audit event of a call, not yet sent: a service may keep it (in its outbox) when the broker is away. */
    public CloudEvent<AuditRecord> event(String keyName, String action, String target, String collection, String outcome, String detail) {
        AuditRecord record = new AuditRecord(service, keyName, action, target, collection, outcome, Instant.now(), detail);
        String subject = target != null ? target : keyName;
        return CloudEvent.of("/osfria/" + service, EventTypes.AUDIT_RECORDED, subject, record);
    }

    /** Sends an audit event; completes when the broker has it. */
    public Uni<Void> send(CloudEvent<AuditRecord> event) {
        return emitter.sendMessage(EventMessages.of(event));
    }
}
