package fr.osfria.ingest.audit;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.audit.AuditRecord;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** Stores the audit records every service publishes, once each. */
@ApplicationScoped
public class AuditListener {

    public static final String AUDIT_RECORDS = "audit-records";

    @Incoming(AUDIT_RECORDS)
    public Uni<Void> onRecord(String json) {
        CloudEvent<AuditRecord> event = EventJson.decode(json, AuditRecord.class);
        AuditRecord r = event.data();
        return Panache.withTransaction(() -> Panache.getSession().chain(session -> session.createNativeQuery("""
                        INSERT INTO audit_record (event_id, service, key_name, action, target, collection, outcome, at, detail)
                        VALUES (:id, :service, :key, :action, :target, :collection, :outcome, :at, :detail)
                        ON CONFLICT (event_id) DO NOTHING""")
                .setParameter("id", event.id())
                .setParameter("service", r.service())
                .setParameter("key", r.keyName())
                .setParameter("action", r.action())
                .setParameter("target", r.target())
                .setParameter("collection", r.collection())
                .setParameter("outcome", r.outcome())
                .setParameter("at", r.time() != null ? r.time() : event.time() != null ? event.time() : Instant.now())
                .setParameter("detail", r.detail())
                .executeUpdate())).replaceWithVoid();
    }
}
