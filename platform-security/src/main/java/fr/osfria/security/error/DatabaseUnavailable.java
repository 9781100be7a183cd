package fr.osfria.security.error;

import java.lang.reflect.Method;

/**
 * Recognises a failure that means the database is out of reach right now (down, restarting, connection cut), not
 * a fault of the request or of the code: the client should be told to come back (503 with {@code Retry-After}), not
 * handed a 500. Matched by class name so that services without a database client do not need one.
 */
public final class DatabaseUnavailable {

    /** Seconds a client is asked to wait: about how long the local supervisor takes to start PostgreSQL again. */
    public static final int RETRY_AFTER_SECONDS = 5;

    /** Whether {@code failure}, or one of its causes, says the database cannot be reached. */
    public static boolean causes(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof java.net.SocketException) {
                // refused: nothing listens (Netty's AnnotatedConnectException is a ConnectException); reset: the
                // server died with our query unread (a killed backend, a crashed postmaster)
                return true;
            }
            String name = t.getClass().getName();
            if (t instanceof java.io.IOException && t.getMessage() != null && lostConnection(t.getMessage())
                    && fromASocket(t)) {
                return true; // the same met while writing (the JDK's socket channel says it with a bare IOException) or
                             // through Netty's native transport (its NativeIoException), or a server gone silent
                             // given up by the kernel (DeadPeerTimeouts)
            }
            if (t.getMessage() != null && t.getMessage().startsWith("Pending requests failed to be sent due to connection has been closed")) {
                return true; // statements queued on a connection the server closed (the client's own wording, no class)
            }
            if (name.equals("io.vertx.core.VertxException") && "Timeout waiting for connection".equals(t.getMessage())
                    || name.equals("io.vertx.core.impl.NoStackTraceThrowable") && "Timeout".equals(t.getMessage())) {
                return true; // a turn for a pooled connection waited for in vain (30 s), by a statement sent to the pool
                             // or a connection asked for (Hibernate Reactive; the bare word is the SQL pool's alone in
                             // Vert.x): statements on a server gone silent, or a load it cannot follow, hold them all
            }
            if (name.equals("io.vertx.sqlclient.ClosedConnectionException")) {
                return true; // the server went away under an open connection
            }
            if (name.equals("io.vertx.core.impl.NoStackTraceThrowable") && t.getMessage() != null
                    && t.getMessage().startsWith("Connection is not active now")) {
                return true; // the same, met by the next query on that pooled connection (no class of its own)
            }
            if (name.equals("io.vertx.pgclient.PgException") && unavailableState(sqlState(t))) {
                return true;
            }
        }
        return false;
    }

    private static boolean lostConnection(String message) {
        return message.contains("Connection reset") || message.contains("Broken pipe")
                || message.contains("Connection timed out") || message.contains("No route to host");
    }

    /**
     * Whether a bare I/O failure was a socket's (a file or a process pipe says "Broken pipe" too, and is no database):
     * thrown by the JDK's socket channel, or Netty's native transport (its class, shaded or not).
     */
    private static boolean fromASocket(Throwable t) {
        if (t.getClass().getName().endsWith("channel.unix.Errors$NativeIoException")) {
            return true;
        }
        for (StackTraceElement frame : t.getStackTrace()) {
            if (frame.getClassName().startsWith("sun.nio.ch.Socket")) {
                return true;
            }
        }
        return false;
    }

    /** SQLSTATE class 08 (connection exception) and 57P01–57P03 (shutting down, crashed, starting up). */
    private static boolean unavailableState(String state) {
        return state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03"));
    }

    /** The SQLSTATE of a database client's exception, read by reflection (no client class needed), or null. */
    static String sqlState(Throwable t) {
        try {
            Method m = t.getClass().getMethod("getSqlState");
            Object state = m.invoke(t);
            return state == null ? null : state.toString();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private DatabaseUnavailable() {
    }
}
