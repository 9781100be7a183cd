package fr.osfria.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points the service under test at its own database in the shared embedded PostgreSQL: the reactive URL for
 * Hibernate Reactive and the JDBC URL for Flyway. Init arg {@code database} names it (default {@code osfria}); with
 * init arg {@code silent-link} "true", the service reaches the server across a link the test can silence
 * ({@link SilentHost}, where this machine can make one; Flyway still goes straight to the server).
 */
public class PostgresTestResource implements QuarkusTestResourceLifecycleManager {

    private String database = "osfria";
    private boolean silentLink;

    @Override
    public void init(Map<String, String> initArgs) {
        database = initArgs.getOrDefault("database", database);
        silentLink = Boolean.parseBoolean(initArgs.get("silent-link"));
    }

    @Override
    public Map<String, String> start() {
        int port = EmbeddedPostgres.port();
        EmbeddedPostgres.ensureDatabase(database);
        String silent = silentLink ? SilentHost.reach(port) : null;
        return Map.of(
                "quarkus.datasource.reactive.url", "postgresql://" + (silent == null ? "127.0.0.1:" + port : silent)
                        + "/" + database,
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:" + port + "/" + database,
                "quarkus.datasource.username", EmbeddedPostgres.USER,
                "quarkus.datasource.password", EmbeddedPostgres.PASSWORD);
    }

    @Override
    public void stop() {
        // shared by every test of the JVM
    }
}
