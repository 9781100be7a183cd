package fr.osfria.ingest.document.wait;

import fr.osfria.ingest.document.repository.DocumentRepository;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;

/**
 * This replica's listening connection on {@link DocumentRepository#SETTLED_CHANNEL}: each announcement wakes the
 * waits on its document, whichever replica recorded the change. One connection of the service's pool, held while
 * the service runs (LISTEN belongs to a session); lost (PostgreSQL restarted, the connection cut), it is opened
 * again {@link #RETRY} later, and meanwhile {@link DocumentWaits#check()} wakes the waits.
 */
@ApplicationScoped
public class SettledListener {

    static final Duration RETRY = Duration.ofSeconds(1);

    private final Pool db;
    private final DocumentWaits waits;
    private final Vertx vertx;
    private volatile PgConnection connection;
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

    /** Whether the connection listens now. */
    public boolean listening() {
        return connection != null;
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
            return pg.query("LISTEN " + DocumentRepository.SETTLED_CHANNEL).execute().replaceWith(pg)
                    .onFailure().call(e -> pg.close().onFailure().recoverWithNull());
        }).subscribe().with(pg -> {
            // set once listening: a connection that fails before is closed above and tried again below, once
            pg.closeHandler(() -> {
                connection = null;
                if (!stopping) {
                    Log.warnf("the connection listening for settled documents was lost; opening another in %d s",
                            RETRY.toSeconds());
                    retryLater();
                }
            });
            connection = pg;
            Log.debug("listening for settled documents");
            failures = 0;
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

    private void retryLater() {
        if (!stopping) {
            vertx.setTimer(RETRY.toMillis(), id -> listen());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        stopping = true;
        PgConnection pg = connection;
        if (pg != null) {
            pg.closeAndForget();
        }
    }
}
