package fr.osfria.ingest.audit;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** One audit record as stored for queries; the CloudEvent id makes redelivery harmless. */
@Entity
@Table(name = "audit_record")
public class AuditEntry extends PanacheEntityBase {

    @Id
    @Column(name = "event_id")
    @JsonProperty("id")
    public String eventId;

    public String service;

    @Column(name = "key_name")
    @JsonProperty("key")
    public String keyName;

    public String action;

    public String target;

    public String collection;

    public String outcome;

    @Column(name = "at")
    public Instant time;

    public String detail;
}
