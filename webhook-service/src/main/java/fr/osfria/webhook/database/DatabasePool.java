package fr.osfria.webhook.database;

import fr.osfria.security.network.DeadPeerTimeouts;
import io.quarkus.reactive.pg.client.PgPoolCreator;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgPool;
import io.vertx.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/**
 * The service's pool as Quarkus makes it from the datasource's configuration, its connections giving up on a server
 * gone silent ({@link DeadPeerTimeouts}): deliveries, subscriptions and the sweeps all wait on this pool.
 */
@ApplicationScoped
public class DatabasePool implements PgPoolCreator {

    @Override
    public Pool create(Input input) {
        List<PgConnectOptions> servers = input.pgConnectOptionsList().stream().map(DeadPeerTimeouts::applyTo).toList();
        DeadPeerTimeouts.warnIfUnenforced(input.vertx(), "PostgreSQL server");
        // what Quarkus does without a creator: the listed servers in turn (PgPool, as Quarkus expects of a creator)
        return (PgPool) DeadPeerTimeouts.probeWhenQuiet(PgPool.pool(input.vertx(), servers, input.poolOptions()));
    }
}
