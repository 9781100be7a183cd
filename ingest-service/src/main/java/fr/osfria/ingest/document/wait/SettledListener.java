package fr.osfria.ingest.document.wait;

import fr.osfria.ingest.document.repository.DocumentRepository;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import fr.osfria.security.network.DeadPeerTimeouts;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.PgConnection;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * This replica's listening connection on {@link DocumentRepository#SETTLED_CHANNEL}: each announcement wakes the
 * waits on its document, whichever replica recorded the change. A connection of its own, outside the service's pool (LISTEN belongs to a
 * session; closing a lost one must close its socket, not hand it back to the pool for a request to hang on), held
 * while the service runs. Lost (PostgreSQL restarted, the connection cut), or silent (a
 * network partition delivers nothing and fails nothing: {@link #probe()} asks it to answer), it is replaced
 * {@link #RETRY} later; meanwhile {@link DocumentWaits#check()} wakes the waits.
 */
@ApplicationScoped
public class SettledListener {

    static final Duration RETRY = Duration.ofSeconds(1);
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

    /** How pg_stat_activity names the listening connection. */
    public static final String APPLICATION_NAME = "osfria-ingest-listener";

    private final PoolConnectOptions poolOptions;
    private final DocumentWaits waits;
    private final Vertx vertx;
    private final AtomicReference<PgConnection> connection = new AtomicReference<>();
    private volatile boolean stopping;
    /** Attempts failed in a row. */
    private volatile int failures;

    public SettledListener(PoolConnectOptions poolOptions, DocumentWaits waits, Vertx vertx, MeterRegistry metrics) {
        // the pool's database and every setting of its connections (TLS, credentials, properties): see PoolConnectOptions
        this.poolOptions = poolOptions;
        this.waits = waits;
        this.vertx = vertx;
        Gauge.builder("osfria.ingest.document.wait.listening", this, l -> l.listening() ? 1 : 0)
                .description("1 while a connection listens for settled documents; 0: waits are woken by their regular check")
                .register(metrics);
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
        AtomicBoolean closed = new AtomicBoolean();
        // the options inside the chain: should the pool not be made yet and fail, this attempt fails and is retried
        Uni<PgConnection> opening = Uni.createFrom().item(() -> poolOptions.forConnectionNamed(APPLICATION_NAME))
                .chain(options -> PgConnection.connect(vertx, options)).memoize().indefinitely();
        // a server gone silent in the middle of the connection's start (before its keepalive timings apply): given
        // up and tried again, not waited on for the kernel's hours; should it open after all, it is closed
        opening.ifNoItem().after(DeadPeerTimeouts.UNACKNOWLEDGED.plus(DeadPeerTimeouts.CONNECT)).fail()
                .onFailure(io.smallrye.mutiny.TimeoutException.class)
                .invoke(() -> opening.subscribe().with(PgConnection::closeAndForget, e -> { }))
                .chain(pg -> {
            DeadPeerTimeouts.probeWhenQuiet(pg.getDelegate());
            // before LISTEN: a connection closed in between is replaced too (below, once listening)
            pg.closeHandler(() -> {
                closed.set(true);
                lost(pg);
            });
            pg.notificationHandler(n -> {
                if (DocumentRepository.SETTLED_CHANNEL.equals(n.getChannel())) {
                    waits.settled(n.getPayload(), DocumentWaits.Woken.NOTIFICATION);
                }
            });
            return listenOn(pg).replaceWith(pg)
                    .onFailure().call(e -> pg.close().onFailure().recoverWithNull());
        }).subscribe().with(pg -> {
            connection.set(pg);
            if (closed.get()) { // closed before it was set: its close handler found nothing to replace
                lost(pg);
                return;
            }
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
