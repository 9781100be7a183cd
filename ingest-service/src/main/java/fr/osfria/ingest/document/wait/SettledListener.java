package fr.osfria.ingest.document.wait;

import fr.osfria.ingest.document.repository.DocumentRepository;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * This replica's listening connection on {@link DocumentRepository#SETTLED_CHANNEL}: each announcement wakes the
 * waits on its document, whichever replica recorded the change. One connection of the service's pool, held while
 * the service runs (LISTEN belongs to a session). Lost (PostgreSQL restarted, the connection cut), or silent (a
 * network partition delivers nothing and fails nothing: {@link #probe()} asks it to answer), it is replaced
 * {@link #RETRY} later; meanwhile {@link DocumentWaits#check()} wakes the waits.
 */
@ApplicationScoped
public class SettledListener {

    static final Duration RETRY = Duration.ofSeconds(1);
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

    private final Pool db;
    private final DocumentWaits waits;
    private final Vertx vertx;
    private final AtomicReference<PgConnection> connection = new AtomicReference<>();
    private volatile boolean stopping;
    /** Attempts failed in a row. */
    private volatile int failures;

    public SettledListener(Pool db, DocumentWaits waits, Vertx vertx) {
        this.db = db;
        this.waits = waits;
        this.vertx = vertx;
    }

    void start(@Observes StartupEvent event) {
        listen();
    }

    /** Whether a connection listens now. */
    public boolean listening() {
        return connection.get() != null;
    }

    /** The listening connection must answer within {@link #PROBE_TIMEOUT}, else it is replaced. */
    @Scheduled(every = "${osfria.ingest.waits.listener-check-interval}", delayed = "10s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> probe() {
        PgConnection pg = connection.get();
        if (pg == null) {
            return Uni.createFrom().voidItem();
        }
        // LISTEN again: a no-op that needs an answer, and pg_stat_activity keeps showing the connection's purpose
        return listenOn(pg).ifNoItem().after(PROBE_TIMEOUT).fail().replaceWithVoid()
                .onFailure().invoke(e -> {
                    Log.warnf("the connection listening for settled documents does not answer (%s): replacing it",
                            e.toString());
                    pg.closeAndForget();
                    lost(pg);
                })
                .onFailure().recoverWithNull();
    }

    private void listen() {
        if (stopping) {
            return;
        }
        db.getConnection().map(PgConnection::cast).chain(pg -> {
            pg.notificationHandler(n -> {
                if (DocumentRepository.SETTLED_CHANNEL.equals(n.getChannel())) {
                    waits.settled(n.getPayload());
                }
            });
            return listenOn(pg).replaceWith(pg)
                    .onFailure().call(e -> pg.close().onFailure().recoverWithNull());
        }).subscribe().with(pg -> {
            // set once listening: a connection that fails before is closed above and tried again below, once
            connection.set(pg);
            pg.closeHandler(() -> lost(pg));
            failures = 0;
            Log.debug("listening for settled documents");
        }, e -> {
            // once per outage in the log, not every second
            if (failures++ == 0) {
                Log.warnf("cannot listen for settled documents (waits are woken by their regular check): %s", e.toString());
            } else {
                Log.debugf("cannot listen for settled documents: %s", e.toString());
            }
            retryLater();
        });
    }

    private static Uni<Void> listenOn(PgConnection pg) {
        return pg.query("LISTEN " + DocumentRepository.SETTLED_CHANNEL).execute().replaceWithVoid();
    }

    /** {@code pg} is gone (closed, or given up): another is opened, once however many ways its loss is told. */
    private void lost(PgConnection pg) {
        if (connection.compareAndSet(pg, null) && !stopping) {
            Log.warnf("the connection listening for settled documents was lost; opening another in %d s",
                    RETRY.toSeconds());
            retryLater();
        }
    }

    private void retryLater() {
        if (!stopping) {
            vertx.setTimer(RETRY.toMillis(), id -> listen());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        stopping = true;
        PgConnection pg = connection.getAndSet(null);
        if (pg != null) {
            pg.closeAndForget();
        }
    }
}
