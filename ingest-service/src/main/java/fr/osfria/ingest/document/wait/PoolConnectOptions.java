package fr.osfria.ingest.document.wait;

import fr.osfria.security.network.DeadPeerTimeouts;
import io.quarkus.reactive.pg.client.PgPoolCreator;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgPool;
import io.vertx.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.util.List;

/**
 * Makes the service's pool as Quarkus does, and keeps the connect options Quarkus computed for it from the datasource's
 * configuration (URL, credentials, {@code ssl-mode}, trust and key certificates, host name verification, reconnects,
 * {@code additional-properties.*}, and whatever a later Quarkus adds): the listening connection
 * ({@link SettledListener}), opened beside the pool, connects with the same ones. Read again from the properties, the
 * listener missed every setting it did not copy, and could connect in clear where the pool uses TLS.
 * <p>
 * The differences from Quarkus's own pool: the connections give up on a server gone silent ({@link DeadPeerTimeouts});
 * a credentials provider, should one be configured, is asked once at start rather than for each new connection (the
 * service configures none: its credentials are the datasource's user name and password).
 */
@ApplicationScoped
public class PoolConnectOptions implements PgPoolCreator {

    private final Instance<Pool> pool;
    private volatile List<PgConnectOptions> options;

    public PoolConnectOptions(Instance<Pool> pool) {
        this.pool = pool;
    }

    @Override
    public Pool create(Input input) {
        PgPool made = DeadPeerTimeouts.pgPool(input.vertx(), input.pgConnectOptionsList(), input.poolOptions());
        options = input.pgConnectOptionsList().stream().map(PgConnectOptions::new).toList();
        return made;
    }

    /**
     * The pool's connect options for a connection of its own, named {@code applicationName} in
     * {@code pg_stat_activity}: the first server's, should several be listed. A copy: changing it changes no pool.
     */
    public PgConnectOptions forConnectionNamed(String applicationName) {
        if (options == null) {
            // the pool is made on its first use (its start-up and the listener's come in no set order)
            pool.get().size();
        }
        return new PgConnectOptions(options.get(0)).addProperty("application_name", applicationName);
    }
}
