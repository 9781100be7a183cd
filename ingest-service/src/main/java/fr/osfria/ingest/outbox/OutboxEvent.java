package fr.osfria.ingest.outbox;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** An event waiting to be relayed to Kafka; written in the transaction of the change it announces. */
@Entity
@Table(name = "outbox")
public class OutboxEvent extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String topic;

    @Column(name = "event_key", nullable = false)
    public String key;

    @Column(nullable = false)
    public String payload;

    public static OutboxEvent of(String topic, CloudEvent<?> event) {
        OutboxEvent row = new OutboxEvent();
        row.topic = topic;
        row.key = event.subject();
        row.payload = EventJson.encode(event);
        return row;
    }
}
