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
    }

    @Test
    void otherFailuresAreNot() {
        assertFalse(DatabaseUnavailable.causes(new IllegalStateException("a bug")));
        assertFalse(DatabaseUnavailable.causes(new RuntimeException(new NoStackTraceThrowable("Timeout"))));
    }
}
