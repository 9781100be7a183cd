package fr.osfria.webhook.database;

import fr.osfria.security.network.DeadPeerTimeouts;
import io.quarkus.reactive.pg.client.PgPoolCreator;
import io.vertx.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The service's pool as Quarkus makes it from the datasource's configuration, its connections giving up on a server
 * gone silent ({@link DeadPeerTimeouts}): deliveries, subscriptions and the sweeps all wait on this pool.
 */
@ApplicationScoped
public class DatabasePool implements PgPoolCreator {

    @Override
    public Pool create(Input input) {
        return DeadPeerTimeouts.pgPool(input.vertx(), input.pgConnectOptionsList(), input.poolOptions());
    }
}
