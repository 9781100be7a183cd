package fr.osfria.security.network;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.quarkus.logging.Log;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgPool;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnectOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.impl.Connection;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.impl.SqlConnectionInternal;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How long a service's connection to its database waits on a peer that has gone silent (a node powered off, a
 * network cut: no reset, nothing refused) before it is given up. Without these, a statement in flight waited until
 * the kernel stopped retransmitting (about 15 minutes) or, once the server had acknowledged it, for the kernel's
 * keepalive (two hours), and every request behind it with it.
 *
 * <p>The time-outs are the kernel's, not the client's: they count only while the peer's kernel acknowledges nothing,
 * so a healthy server that takes long to answer (a lock wait, a slow statement) is never cut, and neither is a
 * connection held idle on purpose (a session lock kept while Kafka acknowledges). {@code TCP_USER_TIMEOUT} bounds how
 * long sent data may stay unacknowledged; keepalive probes, sent after {@link #KEEPALIVE_IDLE} of quiet, are such
 * data, and find a peer gone while the client waits for an answer. Both need Vert.x's native transport (epoll,
 * {@code quarkus.vertx.prefer-native-transport}): the JDK's sockets offer no user time-out, and without it the
 * service warns at start. The server is told the same ({@link #SERVER_SETTINGS}): it ends a session whose client has
 * gone silent, and the locks it held, instead of keeping them for hours.
 */
public final class DeadPeerTimeouts {

    /** Sent data (a statement, a probe) unacknowledged this long closes the connection. */
    public static final Duration UNACKNOWLEDGED = Duration.ofSeconds(20);
    /** Quiet this long, the kernel starts probing the peer; then every {@link #KEEPALIVE_INTERVAL}. */
    public static final Duration KEEPALIVE_IDLE = Duration.ofSeconds(10);
    static final Duration KEEPALIVE_INTERVAL = Duration.ofSeconds(5);
    /** Probes unanswered before the kernel gives up, should no user time-out apply. */
    static final int KEEPALIVE_PROBES = 4;
    /** A new connection to a silent host (its SYN unanswered) fails after this, not after the kernel's two minutes. */
    public static final Duration CONNECT = Duration.ofSeconds(10);
    /**
     * The same, for PostgreSQL's side of each session (settings any user may give at connection): a client gone
     * silent, its session and its locks (an advisory lock of the outbox relay, a row lock) are ended in seconds.
     */
    public static final Map<String, String> SERVER_SETTINGS = Map.of(
            "tcp_keepalives_idle", String.valueOf(KEEPALIVE_IDLE.toSeconds()),
            "tcp_keepalives_interval", String.valueOf(KEEPALIVE_INTERVAL.toSeconds()),
            "tcp_keepalives_count", String.valueOf(KEEPALIVE_PROBES),
            "tcp_user_timeout", String.valueOf(UNACKNOWLEDGED.toMillis()));

    /**
     * Sets the time-outs a database client's options can carry (a {@code PgConnectOptions} is one: connect, user
     * time-out, keepalive on, the server's settings); returns them. Vert.x applies keepalive timings to the sockets
     * it accepts only, not to those it opens: {@link #probeWhenQuiet(Pool)} sets them on each connection.
     */
    public static <T extends SqlConnectOptions> T applyTo(T options) {
        options.setConnectTimeout((int) CONNECT.toMillis());
        options.setTcpKeepAlive(true);
        options.setTcpUserTimeout((int) UNACKNOWLEDGED.toMillis());
        SERVER_SETTINGS.forEach((name, value) -> {
            if (!options.getProperties().containsKey(name)) { // an operator's own setting stays
                options.addProperty(name, value);
            }
        });
        return options;
    }

    /**
     * A service's PostgreSQL pool as Quarkus makes it (the listed servers in turn; a {@code PgPool}, as Quarkus expects
     * of a pool creator), its connections giving up on a server gone silent: the time-outs are set on {@code servers}
     * themselves, so that a connection of the service's own opened with a copy of them gives up likewise.
     */
    public static PgPool pgPool(Vertx vertx, List<PgConnectOptions> servers, PoolOptions poolOptions) {
        servers.forEach(DeadPeerTimeouts::applyTo);
        warnIfUnenforced(vertx, "PostgreSQL server");
        return (PgPool) probeWhenQuiet(PgPool.pool(vertx, servers, poolOptions));
    }

    /** Has each connection {@code pool} opens probe its server after {@link #KEEPALIVE_IDLE} of quiet. */
    public static Pool probeWhenQuiet(Pool pool) {
        pool.connectHandler(connection -> {
            try {
                probeWhenQuiet(connection);
            } finally {
                connection.close(); // into the pool
            }
        });
        return pool;
    }

    /** The same for one connection; logs, and leaves the kernel's timings, where it cannot. */
    public static void probeWhenQuiet(SqlConnection connection) {
        try {
            Channel channel = channelOf(connection);
            if (channel instanceof EpollSocketChannel) {
                channel.config().setOption(EpollChannelOption.TCP_KEEPIDLE, (int) KEEPALIVE_IDLE.toSeconds());
                channel.config().setOption(EpollChannelOption.TCP_KEEPINTVL, (int) KEEPALIVE_INTERVAL.toSeconds());
                channel.config().setOption(EpollChannelOption.TCP_KEEPCNT, KEEPALIVE_PROBES);
            }
        } catch (RuntimeException | LinkageError e) {
            Log.warnf("the database connection's keepalive could not be set (%s): a server gone silent during a"
                    + " statement is noticed only by the kernel's keepalive, hours later", e);
        }
    }

    /** The socket under a connection of the Vert.x SQL client (its internals: there is no public way to it). */
    static Channel channelOf(SqlConnection connection) {
        Connection c = ((SqlConnectionInternal) connection).unwrap();
        for (int depth = 0; depth < 8 && !(c instanceof SocketConnectionBase); depth++) {
            c = c.unwrap();
        }
        return ((SocketConnectionBase) c).socket().channelHandlerContext().channel();
    }

    /** Warns when {@code vertx} runs on the JDK's sockets, where only the connect time-out holds. */
    public static void warnIfUnenforced(Vertx vertx, String peer) {
        if (!vertx.isNativeTransportEnabled()) {
            Log.warnf("Vert.x runs without its native transport (%s): a %s gone silent (no reset) holds each statement"
                    + " in flight until the kernel gives up, 15 minutes to hours, instead of about %d s",
                    vertx.unavailableNativeTransportCause(), peer, UNACKNOWLEDGED.plus(KEEPALIVE_IDLE).toSeconds());
        }
    }

    private DeadPeerTimeouts() {
    }
}
