package fr.osfria.security.error;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.impl.NoStackTraceThrowable;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/** The failures that mean "the database is out of reach" (503), as the chaos suite met them, and others (500). */
class DatabaseUnavailableTest {

    @Test
    void refusedOrClosedConnectionsAreTheDatabaseOutOfReach() {
        assertTrue(DatabaseUnavailable.causes(new RuntimeException(new ConnectException("Connection refused"))));
        // what Hibernate Reactive threw when PostgreSQL was killed under a pooled connection
        assertTrue(DatabaseUnavailable.causes(new RuntimeException(
                new NoStackTraceThrowable("Connection is not active now, current status: CLOSED"))));
        // a backend killed with our statement unread: the failure behind a 500 in the chaos suite's scenario c
        assertTrue(DatabaseUnavailable.causes(new RuntimeException(new java.net.SocketException("Connection reset"))));
        assertTrue(DatabaseUnavailable.causes(new io.vertx.core.VertxException(
                "Pending requests failed to be sent due to connection has been closed.", null)));
    }

    /**
     * A statement written to a server that has just reset the connection (CI met it when a backend was killed): the
     * JDK's socket channel says it with a bare IOException; a file or a process pipe saying "Broken pipe" is no database.
     */
    @Test
    void aWriteToAResetSocketIsTheDatabaseOutOfReachAFilesIsNot() throws Exception {
        try (java.nio.channels.ServerSocketChannel server = java.nio.channels.ServerSocketChannel.open()
                .bind(new java.net.InetSocketAddress("127.0.0.1", 0));
             java.nio.channels.SocketChannel client = java.nio.channels.SocketChannel.open(server.getLocalAddress())) {
            try (java.nio.channels.SocketChannel accepted = server.accept()) {
                accepted.setOption(java.net.StandardSocketOptions.SO_LINGER, 0); // closed with a reset
            }
            java.io.IOException failure = null;
            for (int i = 0; i < 100 && failure == null; i++) {
                try {
                    client.write(java.nio.ByteBuffer.wrap(new byte[1024]));
                    Thread.sleep(10);
                } catch (java.io.IOException e) {
                    failure = e;
                }
            }
            assertTrue(failure != null, "the write never failed");
            assertTrue(DatabaseUnavailable.causes(new RuntimeException(failure)), failure.toString());
        }
        assertFalse(DatabaseUnavailable.causes(new RuntimeException(new java.io.IOException("Broken pipe"))));
    }

    @Test
    void otherFailuresAreNot() {
        assertFalse(DatabaseUnavailable.causes(new IllegalStateException("a bug")));
        assertFalse(DatabaseUnavailable.causes(new RuntimeException(new NoStackTraceThrowable("Timeout 500 (ms) fired"))));
        assertFalse(DatabaseUnavailable.causes(new java.io.IOException("No space left on device")));
    }
}
