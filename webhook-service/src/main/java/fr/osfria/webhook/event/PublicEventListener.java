package fr.osfria.webhook.event;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import io.smallrye.mutiny.Multi;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Takes in every public event once: a redelivered event (same CloudEvent id) changes nothing.
 */
@ApplicationScoped
public class PublicEventListener {

    public static final String PUBLIC_EVENTS = "public-events";

    public static final String DEAD_LETTERS = "public-events-dead-letters";

    private final MeterRegistry metrics;
    private final fr.osfria.webhook.delivery.DeliverySender sender;
    private final MutinyEmitter<String> deadLetters;

    public PublicEventListener(MeterRegistry metrics, fr.osfria.webhook.delivery.DeliverySender sender,
                               @Channel(DEAD_LETTERS) MutinyEmitter<String> deadLetters) {
        this.metrics = metrics;
        this.sender = sender;
        this.deadLetters = deadLetters;
    }

    /**
     * Takes a poll's worth of events in one transaction (one commit for the batch, not one per event); a record that
     * is not a CloudEvent goes to the dead-letter topic with the reason, and the others carry on.
     */
    @Incoming(PUBLIC_EVENTS)
    public Uni<Void> receive(KafkaRecordBatch<String, String> batch) {
        List<CloudEvent<JsonNode>> events = new ArrayList<>();
        List<Uni<Void>> deadLetters = new ArrayList<>();
        for (KafkaRecord<String, String> record : batch.getRecords()) {
            try {
                events.add(EventJson.decode(record.getPayload(), JsonNode.class));
            } catch (EventJson.MalformedEventException e) {
                deadLetters.add(deadLetter(record, e.getMessage()));
            }
        }
        Uni<Void> sideTrack = deadLetters.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(deadLetters).andFailFast().replaceWithVoid();
        return sideTrack
                .chain(() -> events.isEmpty() ? Uni.createFrom().voidItem() : Panache.withTransaction(() ->
                        Multi.createFrom().iterable(events).onItem().transformToUniAndConcatenate(this::takeIn)
                                .collect().last().replaceWithVoid()))
                .invoke(sender::wake)
                .chain(() -> Uni.createFrom().completionStage(batch.ack()));
    }

    /** Records one event (once, by its id) and its deliveries; called inside the batch's transaction. */
    private Uni<Void> takeIn(CloudEvent<JsonNode> event) {
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
                    return recordDeliveries(event).replaceWithVoid();
                });
    }

    private Uni<Void> deadLetter(KafkaRecord<String, String> record, String reason) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("dead-letter-reason", String.valueOf(reason).getBytes(StandardCharsets.UTF_8));
        headers.add("dead-letter-topic", record.getTopic().getBytes(StandardCharsets.UTF_8));
        return deadLetters.sendMessage(Message.of(record.getPayload()).addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(record.getKey()).withHeaders(headers).build()));
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
