package fr.osfria.ingest.document.wait;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An operator requires TLS of the service's database connections ({@code ssl-mode=require}); the tests' PostgreSQL
 * offers none, so the pool cannot connect, and neither may the listening connection: it never connects in clear.
 * (Flyway's JDBC connection has its own settings and still connects, so the service starts.)
 */
@QuarkusTest
@TestProfile(ListenerRequiresTlsLikeThePoolTest.TlsRequired.class)
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class ListenerRequiresTlsLikeThePoolTest {

    public static class TlsRequired implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.datasource.reactive.postgresql.ssl-mode", "require");
        }
    }

    @Inject
    SettledListener listener;

    @Inject
    AgroalDataSource database;

    @Test
    void theListeningConnectionNeverConnectsInClearWhereThePoolRequiresTls() throws SQLException {
        // the pool is refused: its readiness check is down (what makes the settings' effect sure)
        await().atMost(Duration.ofSeconds(20)).until(() -> given().get("/q/health/ready").statusCode() == 503);
        // the listener tries again every second, and is refused each time
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(() -> !listener.listening());
        assertEquals(0, listenersConnected(), "no listening connection reached PostgreSQL");
    }

    /** The service's listening connections PostgreSQL holds now, whatever replica opened them. */
    private int listenersConnected() throws SQLException {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND datname = 'ingest'")) {
            s.setString(1, SettledListener.APPLICATION_NAME);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
