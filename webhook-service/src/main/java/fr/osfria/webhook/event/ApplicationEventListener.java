package fr.osfria.webhook.event;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.Topics;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaRecordBatch;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * The events Kafka applications publish on {@code osfria.app.<name>.events.v1} (a pattern subscription: a new
 * application's topic is found within seconds). The topic names the application; a record is taken in only if it
 * is a valid CloudEvent of a type its key declares ({@link ApplicationEvent}), and then exactly as a public event
 * ({@link PublicEventListener#takeInApplicationEvents}): same deliveries, signing, retries, replay and rights. Any
 * other record goes to the application's dead-letter topic with the reason, and the next records go on.
 */
@ApplicationScoped
public class ApplicationEventListener {

    public static final String CHANNEL = "app-events";
    private static final Pattern TOPIC = Pattern.compile(Topics.APP_EVENTS_PATTERN);

    private final KeyRegistry keys;
    private final PublicEventListener publicEvents;
    private final ApplicationDeadLetters deadLetters;
    private final MeterRegistry metrics;
    private final Vertx vertx;

    public ApplicationEventListener(KeyRegistry keys, PublicEventListener publicEvents, ApplicationDeadLetters deadLetters,
                                    MeterRegistry metrics, Vertx vertx) {
        this.keys = keys;
        this.publicEvents = publicEvents;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
        this.vertx = vertx;
    }

    /** A record refused, with what its dead letter needs. */
    private record Refusal(String app, KafkaRecord<String, String> record, String reason, boolean byKey) {
    }

    private record Sorted(List<CloudEvent<JsonNode>> events, List<Refusal> refused) {
    }

    @Incoming(CHANNEL)
    public Uni<Void> receive(KafkaRecordBatch<String, String> batch) {
        return loadedKeys()
                .chain(() -> vertx.executeBlocking(Uni.createFrom().item(() -> sort(batch.getRecords()))))
                .chain(sorted -> {
                    metrics.counter("osfria.webhook.app.events", "outcome", "accepted").increment(sorted.events().size());
                    metrics.counter("osfria.webhook.app.events", "outcome", "rejected").increment(sorted.refused().size());
                    List<Uni<Void>> letters = sorted.refused().stream().map(this::deadLetter).toList();
                    Uni<Void> sideTrack = letters.isEmpty() ? Uni.createFrom().voidItem()
                            : Uni.join().all(letters).andCollectFailures().replaceWithVoid();
                    return sideTrack.chain(() -> publicEvents.takeInApplicationEvents(sorted.events()));
                })
                .chain(() -> Uni.createFrom().completionStage(batch.ack()));
    }

    /**
     * Checks each record against its application's key as the registry has it; if one is refused for want of a key
     * or of a declared type, the key file is read again once (it may be newer than the last periodic reload: an
     * application just created, a type just declared) and the batch sorted again.
     */
    private Sorted sort(List<KafkaRecord<String, String>> records) {
        Sorted sorted = sortOnce(records);
        if (sorted.refused().stream().anyMatch(Refusal::byKey)) {
            keys.reload();
            sorted = sortOnce(records);
        }
        return sorted;
    }

    private Sorted sortOnce(List<KafkaRecord<String, String>> records) {
        List<CloudEvent<JsonNode>> events = new ArrayList<>();
        List<Refusal> refused = new ArrayList<>();
        for (KafkaRecord<String, String> record : records) {
            Matcher topic = TOPIC.matcher(record.getTopic());
            if (!topic.matches()) {
                Log.warnf("ignoring a record of %s: not an application's events topic", record.getTopic());
                continue;
            }
            String app = topic.group(1);
            KeyEntry key = keys.active(app).filter(KeyEntry::kafkaApplication).orElse(null);
            try {
                events.add(ApplicationEvent.parse(app, key, record.getPayload()));
            } catch (ApplicationEvent.Refused e) {
                refused.add(new Refusal(app, record, e.getMessage(), e.byKey));
            }
        }
        return new Sorted(events, refused);
    }

    private static long offset(KafkaRecord<String, String> record) {
        return record.getMetadata(io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata.class)
                .map(m -> m.getOffset()).orElse(-1L);
    }

    /** Until the key file has been read once, who may publish what is unknown: the batch waits (nothing is lost). */
    private Uni<Void> loadedKeys() {
        return Uni.createFrom().deferred(() -> keys.state().loaded() ? Uni.createFrom().voidItem()
                        : Uni.createFrom().failure(new IllegalStateException("the key registry is not loaded yet")))
                .onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(5)).indefinitely();
    }

    /**
     * The dead letter, tried again for about a minute while Kafka refuses it; then logged and given up, so that a
     * broker refusing one topic never stalls the applications' stream.
     */
    private Uni<Void> deadLetter(Refusal r) {
        KafkaRecord<String, String> record = r.record();
        return deadLetters.send(r.app(), record.getTopic(), record.getPartition(), offset(record), record.getPayload(),
                        r.reason())
                .onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10)).atMost(8)
                .onFailure().recoverWithItem(e -> {
                    Log.errorf(e, "the dead letter of record %s-%d@%d (%s) could not be sent", record.getTopic(),
                            record.getPartition(), offset(record), r.reason());
                    return null;
                });
    }
}
