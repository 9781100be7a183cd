package fr.osfria.ingest.appkafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The record memory ({@code app_record}) grew by a row per Kafka application record, for ever. Rows past the
 * retention (9 days by default: the topics' day, plus the broker's segment time) are removed in batches; recent ones
 * stay (a record read again within them is still one document); a row another transaction holds is skipped, and
 * the pass ends without waiting for it.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class AppRecordSweepTest {

    @Inject
    AgroalDataSource database;

    @Inject
    AppRecordSweeper sweeper;

    @Test
    void recordsPastTheRetentionAreForgottenRecentOnesKeptAndAHeldRowSkipped() throws Throwable {
        String app = "sweep-" + UUID.randomUUID().toString().substring(0, 8);
        int old = 2 * AppRecordSweeper.BATCH + 37; // several batches
        insert(app, "old-", old, "10 days");
        insert(app, "recent-", 5, "1 day");
        insert(app, "held", 1, "30 days");

        try (Connection holder = database.getConnection()) {
            holder.setAutoCommit(false);
            try (PreparedStatement lock = holder.prepareStatement(
                    "SELECT 1 FROM app_record WHERE app_name = ? AND event_id = 'held0' FOR UPDATE")) {
                lock.setString(1, app); // as a deletion of its document holds it (ON DELETE SET NULL)
                lock.executeQuery().close();
            }
            CompletableFuture<Long> pass = CompletableFuture.supplyAsync(() -> {
                try {
                    return VertxContextSupport.subscribeAndAwait(sweeper::sweep);
                } catch (Throwable e) {
                    throw new IllegalStateException(e);
                }
            });
            long removed = pass.get(60, TimeUnit.SECONDS); // done while the row is still held
            assertTrue(removed >= old, "removed " + removed);
            assertEquals(0, count(app, "old-%"), "records past the retention are forgotten");
            assertEquals(5, count(app, "recent-%"), "recent records are remembered");
            assertEquals(1, count(app, "held%"), "the held row is skipped");
            holder.rollback();
        }
        VertxContextSupport.subscribeAndAwait(sweeper::sweep);
        assertEquals(0, count(app, "held%"), "released, it goes at the next pass");
        assertEquals(5, count(app, "recent-%"));
    }

    private void insert(String app, String prefix, int n, String age) throws SQLException {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(
                "INSERT INTO app_record (app_name, event_id, document_id, taken_at)"
                        + " SELECT ?, ? || i, NULL, now() - ?::interval FROM generate_series(0, ? - 1) i")) {
            s.setString(1, app);
            s.setString(2, prefix);
            s.setString(3, age);
            s.setInt(4, n);
            s.executeUpdate();
        }
    }

    private long count(String app, String like) throws SQLException {
        try (Connection c = database.getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT count(*) FROM app_record WHERE app_name = ? AND event_id LIKE ?")) {
            s.setString(1, app);
            s.setString(2, like);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
