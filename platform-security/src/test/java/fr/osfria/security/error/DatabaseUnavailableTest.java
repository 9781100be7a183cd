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
        // a statement written to a backend that had just been killed (CI met it: the JDK's channel says a bare IOException)
        assertTrue(DatabaseUnavailable.causes(new RuntimeException(new java.io.IOException("Broken pipe"))));
        assertTrue(DatabaseUnavailable.causes(new io.vertx.core.VertxException(
                "Pending requests failed to be sent due to connection has been closed.", null)));
    }

    @Test
    void otherFailuresAreNot() {
        assertFalse(DatabaseUnavailable.causes(new IllegalStateException("a bug")));
        assertFalse(DatabaseUnavailable.causes(new RuntimeException(new NoStackTraceThrowable("Timeout"))));
        assertFalse(DatabaseUnavailable.causes(new java.io.IOException("No space left on device")));
    }
}
