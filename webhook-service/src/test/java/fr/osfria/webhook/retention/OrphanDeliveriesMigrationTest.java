package fr.osfria.webhook.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.eclipse.microprofile.config.ConfigProvider;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * A replay racing a deletion, on the code before V9, could turn a deleted subscription's delivery back to pending after
 * {@code SubscriptionSweeper} had removed the tombstone: no subscription, no tombstone, never swept. The migrations
 * run on a database of their own, up to V8, then such a delivery is written, then the rest run.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "webhook"))
class OrphanDeliveriesMigrationTest {

    @Inject
    AgroalDataSource db;

    @Test
    void anOrphanDeliveryGetsATombstoneAndOneAlreadyTombstonedStaysAsItIs() throws Exception {
        String url = ConfigProvider.getConfig().getValue("quarkus.datasource.jdbc.url", String.class);
        String user = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);
        String password = ConfigProvider.getConfig().getValue("quarkus.datasource.password", String.class);
        String database = "webhook_v9_" + System.nanoTime();
        String otherUrl = url.substring(0, url.lastIndexOf('/') + 1) + database;
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        }
        try {
            Flyway.configure().dataSource(otherUrl, user, password).locations("classpath:db/migration").target("8").load().migrate();
            try (Connection c = DriverManager.getConnection(otherUrl, user, password); Statement s = c.createStatement()) {
                s.executeUpdate("""
                        INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at, created_at)
                        VALUES ('msg_orphan', 'sub_gone', 'e1', 'model.loaded', '{}', 'PENDING', 1, now(), now()),
                               ('msg_swept', 'sub_sweeping', 'e2', 'model.loaded', '{}', 'PENDING', 1, now(), now())""");
                s.executeUpdate("INSERT INTO deleted_subscription (id, deleted_at) VALUES ('sub_sweeping', '2026-01-01T00:00:00Z')");
            }
            Flyway.configure().dataSource(otherUrl, user, password).locations("classpath:db/migration").load().migrate();
            try (Connection c = DriverManager.getConnection(otherUrl, user, password); Statement s = c.createStatement()) {
                assertEquals(1, count(s, "SELECT count(*) FROM deleted_subscription WHERE id = 'sub_gone'"),
                        "the orphan's subscription has a tombstone: SubscriptionSweeper removes its deliveries");
                assertEquals(1, count(s, "SELECT count(*) FROM deleted_subscription WHERE id = 'sub_sweeping'"
                        + " AND deleted_at = '2026-01-01T00:00:00Z'"));
            }
        } finally {
            try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE " + database + " WITH (FORCE)");
            }
        }
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
