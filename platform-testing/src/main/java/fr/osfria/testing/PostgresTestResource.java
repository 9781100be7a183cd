package fr.osfria.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points the service under test at its own database in the shared embedded PostgreSQL: the reactive URL for
 * Hibernate Reactive and the JDBC URL for Flyway. Init arg {@code database} names it (default {@code osfria}).
 */
public class PostgresTestResource implements QuarkusTestResourceLifecycleManager {

    private String database = "osfria";

    @Override
    public void init(Map<String, String> initArgs) {
        database = initArgs.getOrDefault("database", database);
    }

    @Override
    public Map<String, String> start() {
        int port = EmbeddedPostgres.port();
        EmbeddedPostgres.ensureDatabase(database);
        return Map.of(
                "quarkus.datasource.reactive.url", "postgresql://127.0.0.1:" + port + "/" + database,
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:" + port + "/" + database,
                "quarkus.datasource.username", EmbeddedPostgres.USER,
                "quarkus.datasource.password", EmbeddedPostgres.PASSWORD);
    }

    @Override
    public void stop() {
        // shared by every test of the JVM
    }
}
