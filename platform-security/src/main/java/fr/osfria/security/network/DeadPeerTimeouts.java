package fr.osfria.security.network;

import io.quarkus.logging.Log;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import java.time.Duration;

/**
 * How long a service's connection to its database waits on a peer that has gone silent (a node powered off, a
 * network cut: no reset, nothing refused) before it is given up. Without these, a statement in flight waited until
 * the kernel stopped retransmitting, about 15 minutes, and every request behind it with it.
 *
 * <p>The time-outs are the kernel's, not the client's: they count only while the peer's kernel acknowledges nothing,
 * so a healthy server that takes long to answer (a lock wait, a slow statement) is never cut, and neither is a
 * connection held idle on purpose (a session lock kept while Kafka acknowledges). Keepalive probes sent after
 * {@link #KEEPALIVE_IDLE} of quiet find a peer gone while the client waits for an answer; {@code TCP_USER_TIMEOUT}
 * bounds how long sent data, probes included, may stay unacknowledged. Both need Vert.x's native transport (epoll,
 * {@code quarkus.vertx.prefer-native-transport}): the JDK's sockets offer neither, and without it the service warns
 * at start.
 */
public final class DeadPeerTimeouts {

    /** Sent data (a statement, a probe) unacknowledged this long closes the connection. */
    public static final Duration UNACKNOWLEDGED = Duration.ofSeconds(20);
    /** Quiet this long, the kernel starts probing the peer; then every {@link #KEEPALIVE_INTERVAL}. */
    static final Duration KEEPALIVE_IDLE = Duration.ofSeconds(10);
    static final Duration KEEPALIVE_INTERVAL = Duration.ofSeconds(5);
    /** A new connection to a silent host (its SYN unanswered) fails after this, not after the kernel's two minutes. */
    public static final Duration CONNECT = Duration.ofSeconds(10);

    /** Sets the time-outs on a database client's options (a {@code PgConnectOptions} is one); returns them. */
    public static <T extends NetClientOptions> T applyTo(T options) {
        options.setConnectTimeout((int) CONNECT.toMillis());
        options.setTcpKeepAlive(true);
        options.setTcpKeepAliveIdleSeconds((int) KEEPALIVE_IDLE.toSeconds());
        options.setTcpKeepAliveIntervalSeconds((int) KEEPALIVE_INTERVAL.toSeconds());
        // with TCP_USER_TIMEOUT set, Linux closes a connection whose probes go unanswered after it, whatever the count
        options.setTcpKeepAliveCount((int) (UNACKNOWLEDGED.toSeconds() / KEEPALIVE_INTERVAL.toSeconds()));
        options.setTcpUserTimeout((int) UNACKNOWLEDGED.toMillis());
        return options;
    }

    /** Warns, once per call, when {@code vertx} runs on the JDK's sockets, where only the connect time-out holds. */
    public static void warnIfUnenforced(Vertx vertx, String peer) {
        if (!vertx.isNativeTransportEnabled()) {
            Log.warnf("Vert.x runs without its native transport (%s): a %s gone silent (no reset) holds each statement"
                    + " in flight until the kernel gives up, about 15 minutes, instead of %d s",
                    vertx.unavailableNativeTransportCause(), peer, UNACKNOWLEDGED.toSeconds());
        }
    }

    private DeadPeerTimeouts() {
    }
}
