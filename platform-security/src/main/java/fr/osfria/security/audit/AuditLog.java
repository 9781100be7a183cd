package fr.osfria.security.audit;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.audit.AuditRecord;
import fr.osfria.security.messaging.EventMessages;
import io.quarkus.arc.Unremovable;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaProducer;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * Publishes audit records to the audit topic. The returned Uni completes when the broker has the record.
 *
 * <p>Every audited call waits for that acknowledgement, so the send takes the shortest way: while the broker
 * answers, the record goes to the channel's own Kafka producer from the calling thread (its {@code send} only
 * queues the record and wakes the producer's network thread) instead of through the connector, which first hands
 * every record to a sending thread of its own: one thread switch less per call, several milliseconds on a loaded
 * machine. The connector's way is kept whenever the direct one could block the caller: before the first
 * acknowledgement (the producer may not exist yet, or not know the topic's partitions: {@code send} would wait for
 * them up to {@code max.block.ms}), when no record was acknowledged for {@link #DIRECT_WINDOW_NANOS} (the broker may
 * be away; the producer forgets an idle topic after {@code metadata.max.idle.ms}, 5 min by default), and beyond
 * {@link #MAX_DIRECT_IN_FLIGHT} records awaiting their acknowledgement (a full producer buffer would block too).
 */
@ApplicationScoped
@Unremovable
public class AuditLog {

    /** Channel name; its topic is set in this module's default configuration. */
    public static final String CHANNEL = "audit";

    static final long DIRECT_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(30);
    /**
     * How long a call waits for its audit record's acknowledgement before it is answered 503: the producer's own
     * limits (60 s to learn a topic, 120 s to deliver) held every audited call that long while the broker was away.
     */
    public static final java.time.Duration PATIENCE = java.time.Duration.ofSeconds(10);
    static final int MAX_DIRECT_IN_FLIGHT = 1000;

    private final MutinyEmitter<String> emitter;
    private final String service;
    private final String topic;
    private final Instance<KafkaClientService> kafka;
    private final AtomicInteger directInFlight = new AtomicInteger();
    /** When the broker last acknowledged an audit record ({@link System#nanoTime}); 0 before the first. */
    private volatile long lastAck;

    public AuditLog(@Channel(CHANNEL) MutinyEmitter<String> emitter,
                    @ConfigProperty(name = "quarkus.application.name") String service,
                    @ConfigProperty(name = "mp.messaging.outgoing." + CHANNEL + ".topic") String topic,
                    Instance<KafkaClientService> kafka) {
        this.emitter = emitter;
        this.service = service;
        this.topic = topic;
        this.kafka = kafka;
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

    /**
     * Sends an audit event; completes when the broker has it, or fails with {@link AuditUnavailable} after
     * {@link #PATIENCE} or when the producer gives up (the record may still reach the broker later: a call is
     * recorded once more than it was answered, never less).
     */
    public Uni<Void> send(CloudEvent<AuditRecord> event) {
        return sendNow(event).ifNoItem().after(PATIENCE)
                .failWith(() -> new AuditUnavailable("no acknowledgement of the audit record within " + PATIENCE.toSeconds() + " s", null))
                .onFailure(e -> !(e instanceof AuditUnavailable))
                .transform(e -> new AuditUnavailable("the audit record could not be sent: " + e, e));
    }

    private Uni<Void> sendNow(CloudEvent<AuditRecord> event) {
        Producer<String, String> producer = directProducer();
        if (producer == null) {
            return emitter.sendMessage(EventMessages.of(event)).invoke(this::acknowledged);
        }
        // the same record as the connector's: the CloudEvent as JSON, its subject as key
        ProducerRecord<String, String> record = new ProducerRecord<>(topic, event.subject(), EventJson.encode(event));
        return Uni.createFrom().emitter(done -> {
            // the acknowledgement arrives on the producer's network thread: the caller's work goes on where it was
            // (a Vert.x context when there is one: a reactive session, for one, is closed on its own context)
            Context context = Vertx.currentContext();
            directInFlight.incrementAndGet();
            try {
                producer.send(record, (metadata, error) -> {
                    directInFlight.decrementAndGet();
                    if (error == null) {
                        acknowledged();
                    }
                    Runnable outcome = error != null ? () -> done.fail(error) : () -> done.complete(null);
                    if (context != null) {
                        context.runOnContext(v -> outcome.run());
                    } else { // never the caller's work on the producer's network thread: it would delay every send
                        Infrastructure.getDefaultExecutor().execute(outcome);
                    }
                });
            } catch (RuntimeException e) { // a closed producer, a record too large
                directInFlight.decrementAndGet();
                done.fail(e);
            }
        });
    }

    /** The channel's producer when a direct send cannot block the caller, else null (see the class comment). */
    private Producer<String, String> directProducer() {
        long last = lastAck;
        if (last == 0 || System.nanoTime() - last > DIRECT_WINDOW_NANOS || directInFlight.get() >= MAX_DIRECT_IN_FLIGHT
                || !kafka.isResolvable()) {
            return null;
        }
        KafkaProducer<String, String> producer = kafka.get().getProducer(CHANNEL);
        return producer == null ? null : producer.unwrap();
    }

    private void acknowledged() {
        long now = System.nanoTime();
        lastAck = now == 0 ? 1 : now;
    }
}
