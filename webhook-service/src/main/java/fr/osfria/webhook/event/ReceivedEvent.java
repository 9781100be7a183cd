package fr.osfria.webhook.event;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A public event this service has taken in, by CloudEvent id: the idempotency log of the consumer. */
@Entity
@Table(name = "received_event")
public class ReceivedEvent extends PanacheEntityBase {

    @Id
    @Column(name = "event_id")
    public String eventId;

    @Column(nullable = false)
    public String type;

    public String subject;

    @Column(name = "received_at", nullable = false)
    public Instant receivedAt;
}
