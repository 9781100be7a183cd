package fr.osfria.webhook.event;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.security.messaging.EventMessages;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;

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
    private final Pool db;

    public PublicEventListener(MeterRegistry metrics, fr.osfria.webhook.delivery.DeliverySender sender,
                               @Channel(DEAD_LETTERS) MutinyEmitter<String> deadLetters, Pool db) {
        this.metrics = metrics;
        this.sender = sender;
        this.deadLetters = deadLetters;
        this.db = db;
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
                .chain(() -> events.isEmpty() ? Uni.createFrom().voidItem() : takeIn(events))
                .invoke(sender::wake)
                .chain(() -> Uni.createFrom().completionStage(batch.ack()));
    }

    /**
     * One statement for the whole batch: records the events not seen before (by CloudEvent id) and, for those only,
     * one delivery per active subscription that wants the type. It commits whole or not at all.
     */
    private Uni<Void> takeIn(List<CloudEvent<JsonNode>> events) {
        String[] ids = new String[events.size()];
        String[] types = new String[events.size()];
        String[] subjects = new String[events.size()];
        String[] bodies = new String[events.size()];
        for (int i = 0; i < events.size(); i++) {
            CloudEvent<JsonNode> e = events.get(i);
            ids[i] = e.id();
            types[i] = e.type();
            subjects[i] = e.subject();
            bodies[i] = body(e);
            metrics.counter("osfria.webhook.events.received", "type", e.type()).increment();
        }
        return db.withTransaction(conn -> conn.preparedQuery("""
                        WITH input AS (
                          SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[]) AS i(id, type, subject, body)),
                        fresh AS (
                          INSERT INTO received_event (event_id, type, subject, received_at)
                          SELECT id, type, subject, $5 FROM input
                          ON CONFLICT (event_id) DO NOTHING
                          RETURNING event_id, type)
                        INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at, created_at)
                        SELECT 'msg_' || md5(s.id || f.event_id), s.id, f.event_id, f.type, i.body, 'PENDING', 0, $5, $5
                        FROM fresh f JOIN input i ON i.id = f.event_id
                        JOIN subscription s ON s.active AND (s.events = '*' OR (',' || s.events || ',') LIKE ('%,' || f.type || ',%'))
                        ON CONFLICT (subscription_id, event_id) DO NOTHING""")
                .execute(Tuple.of(ids, types, subjects, bodies, OffsetDateTime.now(ZoneOffset.UTC))))
                .replaceWithVoid();
    }

    /** The delivery body without its signature: {@code {"event","timestamp","data"}}, data in snake_case. */
    private static String body(CloudEvent<JsonNode> event) {
        com.fasterxml.jackson.databind.node.ObjectNode body = EventJson.MAPPER.createObjectNode();
        body.put("event", event.type());
        body.put("timestamp", event.time().toString());
        body.set("data", snakeCase(event.data()));
        return body.toString();
    }

    private Uni<Void> deadLetter(KafkaRecord<String, String> record, String reason) {
        return deadLetters.sendMessage(EventMessages.deadLetter(record, reason));
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

}
