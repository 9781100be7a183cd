package fr.osfria.ingest.outbox;

import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends outbox rows to their topics in id order and deletes them once the broker has them.
 * <ul>
 * <li>One relay at a time: within a replica passes never overlap (a nudge during a pass makes it run once more);
 * across replicas the pass holds a PostgreSQL advisory lock, so two replicas never interleave their sends and a
 * document's events leave in the order they were written.</li>
 * <li>No row lock: rows are read without locking and deleted after the broker acknowledged them, in short
 * statements; waiting for Kafka holds only the advisory lock, which blocks no writer.</li>
 * <li>Callers never wait for Kafka: {@link #nudge()} returns at once, so a Kafka outage cannot fail (or hold) an
 * upload that PostgreSQL accepted; its events leave when the broker is back.</li>
 * </ul>
 * A crash after a send and before the delete sends the row again; consumers absorb it (idempotent on the event id).
 */
@ApplicationScoped
public class OutboxRelay {

    public static final String CHANNEL = "outbox";
    private static final int BATCH = 200;
    /** The advisory lock key of the relay ("osfria" in ASCII), the same in every replica. */
    private static final long LOCK = 0x6f7366726961L;

    private record Row_(long id, String topic, String key, String payload) {
    }

    private final MutinyEmitter<String> emitter;
    private final Pool db;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();

    public OutboxRelay(@Channel(CHANNEL) MutinyEmitter<String> emitter, Pool db) {
        this.emitter = emitter;
        this.db = db;
    }

    // delayed: the first run must not race the messaging wiring at start-up
    @Scheduled(every = "${osfria.ingest.outbox-interval}", delayed = "2s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void relayOnSchedule() {
        nudge();
    }

    /** Asks for a pass now (after a commit, for latency); returns at once. */
    public void nudge() {
        again.set(true);
        if (running.compareAndSet(false, true)) {
            pass();
        }
    }

    private void pass() {
        again.set(false);
        relay().subscribe().with(sent -> {
            running.set(false);
            if (again.get() && running.compareAndSet(false, true)) {
                pass(); // nudged during the pass: its rows may have come after our read
            }
        }, e -> {
            running.set(false); // the next tick retries; no tight loop while Kafka or PostgreSQL is down
            Log.warnf("outbox relay failed, will retry: %s", e.getMessage());
        });
    }

    /**
     * One pass: if no other replica is relaying, sends everything pending, a batch at a time; returns how many
     * events went out (0 when another replica holds the lock).
     */
    public Uni<Integer> relay() {
        return db.getConnection().chain(conn -> conn.query("SELECT pg_try_advisory_lock(" + LOCK + ")").execute()
                .chain(rows -> !rows.iterator().next().getBoolean(0) ? Uni.createFrom().item(0)
                        : drain(conn, 0).eventually(() -> conn.query("SELECT pg_advisory_unlock(" + LOCK + ")").execute()
                                .onFailure().recoverWithNull()))
                .eventually(conn::close));
    }

    private Uni<Integer> drain(SqlConnection conn, int sentSoFar) {
        return conn.query("SELECT id, topic, event_key, payload FROM outbox ORDER BY id LIMIT " + BATCH).execute()
                .chain(rows -> {
                    List<Row_> batch = new ArrayList<>();
                    for (Row r : rows) {
                        batch.add(new Row_(r.getLong("id"), r.getString("topic"), r.getString("event_key"), r.getString("payload")));
                    }
                    if (batch.isEmpty()) {
                        return Uni.createFrom().item(sentSoFar);
                    }
                    return send(batch).chain(sent -> delete(conn, sent).chain(() -> {
                        if (sent.size() < batch.size()) {
                            return Uni.createFrom().failure(new IllegalStateException(
                                    (batch.size() - sent.size()) + " events could not be sent; they stay in the outbox"));
                        }
                        return batch.size() < BATCH ? Uni.createFrom().item(sentSoFar + sent.size())
                                : drain(conn, sentSoFar + sent.size());
                    }));
                });
    }

    /**
     * Sends the batch in order (one producer keeps a key's order) and answers the ids acknowledged before the
     * first failure: those after it are sent again next pass, so a document's events never leave out of order for good.
     */
    private Uni<List<Long>> send(List<Row_> batch) {
        List<Uni<Boolean>> sends = batch.stream().map(row -> emitter.sendMessage(Message.of(row.payload())
                        .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withTopic(row.topic()).withKey(row.key()).build()))
                .replaceWith(true).onFailure().recoverWithItem(false)).toList();
        return Uni.join().all(sends).andFailFast().map(acked -> {
            List<Long> sent = new ArrayList<>();
            for (int i = 0; i < acked.size() && acked.get(i); i++) {
                sent.add(batch.get(i).id());
            }
            return sent;
        });
    }

    private static Uni<Void> delete(SqlConnection conn, List<Long> ids) {
        if (ids.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return conn.preparedQuery("DELETE FROM outbox WHERE id = ANY($1)").execute(Tuple.of(ids.toArray(Long[]::new)))
                .replaceWithVoid();
    }
}
