package fr.osfria.security.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.error.DatabaseUnavailable;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollChannelOption;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgPool;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The time-outs on a server gone silent reach the sockets and the server: Vert.x applies keepalive timings to the
 * sockets it accepts only, so a pool's connections kept the kernel's two hours until each was set by hand. And a
 * request that waited its turn for a connection in vain is the database out of reach (503), not a 500.
 */
class DeadPeerTimeoutsTest {

    private static io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
    private static Vertx vertx;

    @BeforeAll
    static void start() throws Exception {
        server = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        assertTrue(vertx.isNativeTransportEnabled(), "epoll: " + vertx.unavailableNativeTransportCause());
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        server.close();
    }

    private static PgConnectOptions options() {
        return DeadPeerTimeouts.applyTo(new PgConnectOptions().setHost("127.0.0.1").setPort(server.getPort())
                .setDatabase("postgres").setUser("postgres").setPassword("postgres"));
    }

    @Test
    void aPooledConnectionProbesAQuietServerAndGivesUpOnSilenceAndTheServerDoesTheSame() throws Exception {
        Pool pool = DeadPeerTimeouts.probeWhenQuiet(PgPool.pool(vertx, options(), new PoolOptions().setMaxSize(1)));
        try {
            SqlConnection connection = done(pool.getConnection());
            try {
                Channel socket = DeadPeerTimeouts.channelOf(connection);
                assertEquals(20_000, socket.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT));
                assertEquals(true, socket.config().getOption(io.netty.channel.ChannelOption.SO_KEEPALIVE));
                assertEquals(10, socket.config().getOption(EpollChannelOption.TCP_KEEPIDLE));
                assertEquals(5, socket.config().getOption(EpollChannelOption.TCP_KEEPINTVL));
                // the server's side of the session
                assertEquals("10", show(connection, "tcp_keepalives_idle"));
                assertEquals("20000", show(connection, "tcp_user_timeout"));
            } finally {
                done(connection.close());
            }
        } finally {
            done(pool.close());
        }
    }

    @Test
    void aStatementThatWaitedForAConnectionInVainIsTheDatabaseOutOfReach() throws Exception {
        Pool pool = PgPool.pool(vertx, options(), new PoolOptions().setMaxSize(1).setConnectionTimeout(1)
                .setConnectionTimeoutUnit(TimeUnit.SECONDS));
        try {
            SqlConnection held = done(pool.getConnection());
            // a statement sent to the pool (as the outbox relay and the sweeps do), its turn never come
            ExecutionException waited = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> done(pool.query("SELECT 1").execute()));
            assertTrue(DatabaseUnavailable.causes(waited), waited.toString());
            // a connection asked for, as Hibernate Reactive does for each session
            ExecutionException asked = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> done(pool.getConnection()));
            assertTrue(DatabaseUnavailable.causes(asked), asked.toString());
            done(held.close());
        } finally {
            done(pool.close());
        }
    }

    private static String show(SqlConnection connection, String setting) throws Exception {
        return done(connection.query("SHOW " + setting).execute()).iterator().next().getString(0);
    }

    private static <T> T done(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
