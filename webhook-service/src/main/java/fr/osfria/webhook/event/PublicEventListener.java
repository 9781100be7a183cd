package fr.osfria.webhook.event;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import fr.osfria.security.rights.EventAudience;
import fr.osfria.security.messaging.EventMessages;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Takes in every public event once: a redelivered event (same CloudEvent id) changes nothing. An event becomes a
 * delivery only for subscriptions whose owner may see it; {@code delivery.AudienceCheck} asks again before sending.
 */
@ApplicationScoped
public class PublicEventListener {

    public static final String PUBLIC_EVENTS = "public-events";

    public static final String DEAD_LETTERS = "public-events-dead-letters";

    private final MeterRegistry metrics;
    private final fr.osfria.webhook.delivery.DeliverySender sender;
    private final MutinyEmitter<String> deadLetters;
    private final Pool db;
    private final KeyRegistry keys;

    public PublicEventListener(MeterRegistry metrics, fr.osfria.webhook.delivery.DeliverySender sender,
                               @Channel(DEAD_LETTERS) MutinyEmitter<String> deadLetters, Pool db, KeyRegistry keys) {
        this.metrics = metrics;
        this.sender = sender;
        this.deadLetters = deadLetters;
        this.db = db;
        this.keys = keys;
    }

    /**
     * Takes a poll's worth of events in one statement (one commit for the batch, not one per event); a record that
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
                .chain(() -> events.isEmpty() ? Uni.createFrom().voidItem() : takeIn(events, false))
                .invoke(sender::wake)
                .chain(() -> Uni.createFrom().completionStage(batch.ack()));
    }

    /**
     * Kafka applications' events, validated by {@link ApplicationEventListener}: taken in exactly as public events
     * (same idempotency, deliveries, rights, signing, retries and replay), their data delivered as the application
     * sent it (no snake_case conversion: it is the application's own JSON).
     */
    public Uni<Void> takeInApplicationEvents(List<CloudEvent<JsonNode>> events) {
        return events.isEmpty() ? Uni.createFrom().voidItem() : takeIn(events, true).invoke(sender::wake);
    }

    /**
     * Records the events not seen before (by CloudEvent id) and, for those only, one delivery per active subscription
     * that wants the type and whose owner's key may see the event now ({@link EventAudience}). Two round trips, for a
     * batch is taken in while every later event waits: the candidates are read, then one statement records the
     * events and their deliveries, whole or not at all. Until the key registry is loaded, who may see what is
     * unknown: the batch waits (nothing is taken in, nothing is lost).
     */
    private Uni<Void> takeIn(List<CloudEvent<JsonNode>> events, boolean dataAsSent) {
        return Uni.createFrom().deferred(() -> keys.state().loaded() ? record(events, dataAsSent)
                        : Uni.createFrom().failure(new KeysNotLoaded()))
                .onFailure(KeysNotLoaded.class).retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(5)).indefinitely()
                // two replicas taking in the same events (after a rebalance) may deadlock on them: the one PostgreSQL
                // ended applied nothing; its failure would have stopped the channel
                .onFailure(fr.osfria.security.error.DatabaseConflict::ended).retry().withBackOff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .atMost(10)
                // a database outage (PostgreSQL restarting) must not end the channel: nothing is acked, the batch is
                // taken in once the database answers again (the statements are idempotent by event id)
                .onFailure(fr.osfria.security.error.DatabaseUnavailable::causes).invoke(e -> Log.warnf(
                        "the database is unavailable (%s): %d events wait to be taken in", e.getMessage(), events.size()))
                .onFailure(fr.osfria.security.error.DatabaseUnavailable::causes).retry()
                .withBackOff(Duration.ofMillis(500), Duration.ofSeconds(5)).indefinitely();
    }

    private Uni<Void> record(List<CloudEvent<JsonNode>> events, boolean dataAsSent) {
        String[] ids = new String[events.size()];
        String[] types = new String[events.size()];
        String[] subjects = new String[events.size()];
        String[] concerned = new String[events.size()];
        Map<String, Taken> byId = new HashMap<>();
        for (int i = 0; i < events.size(); i++) {
            CloudEvent<JsonNode> e = events.get(i);
            JsonNode data = dataAsSent ? e.data() : snakeCase(e.data());
            ids[i] = e.id();
            types[i] = e.type();
            subjects[i] = e.subject();
            concerned[i] = EventAudience.concernedSubscription(e.type(), data);
            byId.putIfAbsent(e.id(), new Taken(e.type(), e.time(), data, body(e, data)));
            metrics.counter("osfria.webhook.events.received", "type", e.type()).increment();
        }
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        // Candidates: every active subscription that wants the type of the event, with its owner and, for webhook.*
        // events, the owner of the subscription the event is about. Events taken in before are left out by the next
        // statement (only events it records get deliveries); looking them up here as well cost a scan of every event
        // ever received whenever the planner judged that cheaper than one index probe per event.
        return db.preparedQuery("""
                        SELECT i.id AS event_id, s.id AS subscription_id, s.owner, c.owner AS concerned_owner
                        FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]) AS i(id, type, concerned)
                        JOIN subscription s ON s.active AND (s.events = '*' OR (',' || s.events || ',') LIKE ('%,' || i.type || ',%'))
                        LEFT JOIN subscription c ON c.id = i.concerned""")
                .execute(Tuple.of(ids, types, concerned))
                .chain(candidates -> {
                    List<String[]> deliveries = allowed(candidates, byId);
                    // Events first recorded by this statement get their deliveries (a redelivered event adds
                    // nothing); a subscription deleted since it was read is skipped, one being deleted is waited for.
                    // Each of a subscription's deliveries is due a microsecond after the one before it: the sender
                    // resumes its claims from the last one it took, and ties would be walked again. The id is the
                    // event's time then a hash of subscription and event: the same for an event taken in again (the
                    // primary key keeps it one delivery), and new keys land near the end of the primary key's index
                    // rather than on a random page of it (a hash alone made the intake, the claim and the outcome
                    // write 15-25 % dearer).
                    return db.preparedQuery("""
                                    WITH fresh AS (
                                      INSERT INTO received_event (event_id, type, subject, received_at)
                                      SELECT id, type, subject, $4::timestamptz FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]) AS i(id, type, subject)
                                      ON CONFLICT (event_id) DO NOTHING
                                      RETURNING event_id),
                                    live AS (
                                      SELECT id FROM subscription WHERE id = ANY($5::varchar[]) FOR KEY SHARE)
                                    INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at, created_at)
                                    SELECT 'msg_' || lpad(to_hex(v.micros), 14, '0') || left(md5(v.subscription || v.event), 18),
                                      v.subscription, v.event, v.type, v.body, 'PENDING', 0,
                                      $4::timestamptz + v.n * interval '1 microsecond', $4
                                    FROM unnest($5::varchar[], $6::varchar[], $7::varchar[], $8::text[], $9::bigint[], $10::int[])
                                      AS v(subscription, event, type, body, micros, n)
                                    JOIN fresh f ON f.event_id = v.event
                                    JOIN live l ON l.id = v.subscription
                                    ON CONFLICT (id) DO NOTHING""")
                            .execute(Tuple.from(List.of(ids, types, subjects, now, column(deliveries, 0), column(deliveries, 1),
                                    column(deliveries, 2), column(deliveries, 3), deliveries.stream()
                                            .map(d -> micros(byId.get(d[1]).time())).toArray(Long[]::new), rankInSubscription(deliveries))))
                            .replaceWithVoid();
                });
    }

    /** The candidates whose owner's key, as the registry has it now, may see the event: subscription, event, type, body. */
    private List<String[]> allowed(RowSet<Row> candidates, Map<String, Taken> byId) {
        Map<String, Optional<KeyEntry>> owners = new HashMap<>();
        Map<String, Optional<KeyEntry>> producers = new HashMap<>(); // of app.NAME.* events: the application's key
        Set<String> seen = new HashSet<>();
        List<String[]> out = new ArrayList<>();
        int withheld = 0;
        for (Row r : candidates) {
            String eventId = r.getString("event_id");
            String subscription = r.getString("subscription_id");
            Taken e = byId.get(eventId);
            if (!seen.add(subscription + " " + eventId)) {
                continue; // the same event twice in one poll
            }
            KeyEntry owner = owners.computeIfAbsent(r.getString("owner"), keys::active).orElse(null);
            String application = EventAudience.producingApplication(e.type());
            KeyEntry producer = application == null ? null
                    : producers.computeIfAbsent(application, keys::active).orElse(null);
            if (EventAudience.mayReceive(owner, e.type(), e.data(), r.getString("concerned_owner"), producer)) {
                out.add(new String[] {subscription, eventId, e.type(), e.body()});
            } else {
                withheld++;
            }
        }
        if (withheld > 0) {
            metrics.counter("osfria.webhook.withheld", "stage", "take-in").increment(withheld);
        }
        return out;
    }

    /** Each delivery's place among its subscription's in this batch (1, 2, …): its due time's microseconds. */
    private static Integer[] rankInSubscription(List<String[]> deliveries) {
        Map<String, Integer> counts = new HashMap<>();
        return deliveries.stream().map(d -> counts.merge(d[0], 1, Integer::sum)).toArray(Integer[]::new);
    }

    private static String[] column(List<String[]> rows, int i) {
        return rows.stream().map(r -> r[i]).toArray(String[]::new);
    }

    /** An event taken in: its type, its time, its data as receivers see it (snake_case) and the delivery body. */
    private record Taken(String type, java.time.Instant time, JsonNode data, String body) {
    }

    /** Microseconds since 1970 for a delivery id's 14 hex digits: a time before 1970 or after 4253 is clamped. */
    private static long micros(java.time.Instant time) {
        long seconds = Math.max(0, Math.min(time.getEpochSecond(), ((1L << 56) - 1) / 1_000_000 - 1));
        return seconds * 1_000_000 + time.getNano() / 1_000;
    }

    private static final class KeysNotLoaded extends IllegalStateException {
        KeysNotLoaded() {
            super("the key registry is not loaded yet: who may receive what is unknown");
        }
    }

    /** The delivery body without its signature: {@code {"event","timestamp","data"}}, data in snake_case. */
    private static String body(CloudEvent<JsonNode> event, JsonNode data) {
        com.fasterxml.jackson.databind.node.ObjectNode body = EventJson.MAPPER.createObjectNode();
        body.put("event", event.type());
        body.put("timestamp", event.time().toString());
        body.set("data", data);
        return body.toString();
    }

    private Uni<Void> deadLetter(KafkaRecord<String, String> record, String reason) {
        return deadLetters.sendMessage(EventMessages.deadLetter(record, reason));
    }

    private static final java.util.regex.Pattern CAMEL_HUMP = java.util.regex.Pattern.compile("([a-z0-9])([A-Z])");
    /**
     * Field names seen so far (the events' record components: a few dozen), converted once each; bounded, since
     * some names come from outside (an alert's labels): past the bound a name is converted each time.
     */
    private static final Map<String, String> SNAKE_NAMES = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int SNAKE_NAMES_MAX = 1_000;

    private static String snakeName(String name) {
        String known = SNAKE_NAMES.get(name);
        if (known != null) {
            return known;
        }
        String converted = CAMEL_HUMP.matcher(name).replaceAll("$1_$2").toLowerCase();
        if (SNAKE_NAMES.size() < SNAKE_NAMES_MAX) {
            SNAKE_NAMES.put(name, converted);
        }
        return converted;
    }

    /** The public API speaks snake_case ({@code document_id}); event records are Java records in camelCase. */
    static JsonNode snakeCase(JsonNode node) {
        if (node.isObject()) {
            com.fasterxml.jackson.databind.node.ObjectNode out = EventJson.MAPPER.createObjectNode();
            node.fields().forEachRemaining(f -> out.set(snakeName(f.getKey()),
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
