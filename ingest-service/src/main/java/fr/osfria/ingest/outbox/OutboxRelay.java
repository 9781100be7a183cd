package fr.osfria.ingest.outbox;

import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends outbox rows to their topics, oldest first, and deletes them once the broker has them. Rows are locked
 * with SKIP LOCKED, so several replicas relay without sending a row twice; a crash after the send and before
 * the delete sends it again, which consumers absorb (they are idempotent on the event id).
 */
@ApplicationScoped
public class OutboxRelay {

    public static final String CHANNEL = "outbox";
    private static final int BATCH = 200;

    private final MutinyEmitter<String> emitter;

    public OutboxRelay(@Channel(CHANNEL) MutinyEmitter<String> emitter) {
        this.emitter = emitter;
    }

    // delayed: the first run must not race the messaging wiring at start-up
    @Scheduled(every = "${osfria.ingest.outbox-interval}", delayed = "2s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> relayOnSchedule() {
        return relay().onFailure().invoke(e -> Log.warnf("outbox relay failed, will retry: %s", e.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /** Relays what is pending now; returns how many events went out. Called after each commit too, for latency. */
    public Uni<Integer> relay() {
        return Panache.withTransaction(() -> Panache.getSession().chain(session -> session
                .createNativeQuery("SELECT id FROM outbox ORDER BY id LIMIT " + BATCH + " FOR UPDATE SKIP LOCKED", Long.class)
                .getResultList()
                .chain(ids -> ids.isEmpty() ? Uni.createFrom().item(0) : OutboxEvent.<OutboxEvent>list("id in ?1 order by id", ids)
                        .chain(rows -> send(rows).chain(() -> OutboxEvent.delete("id in ?1", ids)).replaceWith(rows.size())))));
    }

    private Uni<Void> send(List<OutboxEvent> rows) {
        return Uni.join().all(rows.stream().map(row -> emitter.sendMessage(Message.of(row.payload)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withTopic(row.topic).withKey(row.key).build())))
                .toList()).andFailFast().replaceWithVoid();
    }
}
