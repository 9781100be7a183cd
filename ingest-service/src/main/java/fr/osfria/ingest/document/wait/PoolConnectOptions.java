package fr.osfria.ingest.document.wait;

import fr.osfria.ingest.IngestConfig;
import io.quarkus.reactive.pg.client.PgPoolCreator;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgPool;
import io.vertx.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes the service's pool as Quarkus does, and keeps the connect options Quarkus computed for it from the datasource's
 * configuration (URL, credentials, {@code ssl-mode}, trust and key certificates, host name verification, reconnects,
 * {@code additional-properties.*}, and whatever a later Quarkus adds): the listening connection
 * ({@link SettledListener}), opened beside the pool, connects with the same ones. Read again from the properties, the
 * listener missed every setting it did not copy, and could connect in clear where the pool uses TLS.
 * <p>
 * The differences from Quarkus's own pool: a credentials provider, should one be configured, is asked once at
 * start rather than for each new connection (the service configures none: its credentials are the datasource's user
 * name and password); and a pooled connection on which nothing is read for {@code osfria.ingest.database-read-timeout}
 * (30 s) is closed. PostgreSQL gone silent (its node down, a network cut: no reset, nothing refused) otherwise held
 * each statement in flight until the kernel gave up retransmitting, about 15 minutes, and every request waiting on it
 * with it; it fails now after the time-out like any loss of the database (503 {@code database_unavailable}). No
 * statement of the service's runs that long; an idle pooled connection closed so is opened again when needed.
 */
@ApplicationScoped
public class PoolConnectOptions implements PgPoolCreator {

    private final Instance<Pool> pool;
    private final Duration readTimeout;
    private volatile List<PgConnectOptions> options;

    @Inject
    public PoolConnectOptions(Instance<Pool> pool, IngestConfig config) {
        this(pool, config.databaseReadTimeout());
    }

    PoolConnectOptions(Instance<Pool> pool, Duration readTimeout) {
        this.pool = pool;
        this.readTimeout = readTimeout;
    }

    @Override
    public Pool create(Input input) {
        options = input.pgConnectOptionsList().stream().map(PgConnectOptions::new).toList();
        List<PgConnectOptions> pooled = input.pgConnectOptionsList().stream().map(o -> {
            PgConnectOptions timed = new PgConnectOptions(o);
            timed.setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
            timed.setReadIdleTimeout((int) Math.min(Integer.MAX_VALUE, readTimeout.toMillis()));
            return timed;
        }).toList();
        // what Quarkus does without a creator: the listed servers in turn (PgPool, as Quarkus expects of a creator)
        return PgPool.pool(input.vertx(), pooled, input.poolOptions());
    }

    /**
     * The pool's connect options for a connection of its own, named {@code applicationName} in
     * {@code pg_stat_activity}: the first server's, should several be listed. A copy: changing it changes no pool.
     * Without the pool's read time-out: a listening connection reads nothing for long stretches, and is probed.
     */
    public PgConnectOptions forConnectionNamed(String applicationName) {
        if (options == null) {
            // the pool is made on its first use (its start-up and the listener's come in no set order)
            pool.get().size();
        }
        return new PgConnectOptions(options.get(0)).addProperty("application_name", applicationName);
    }
}
