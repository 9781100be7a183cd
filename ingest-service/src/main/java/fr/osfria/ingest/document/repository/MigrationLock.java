package fr.osfria.ingest.document.repository;

import io.quarkus.flyway.FlywayConfigurationCustomizer;
import jakarta.inject.Singleton;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;

/**
 * Flyway holds its lock, by default, in a transaction of its own for as long as the migrations run: an index built
 * {@code CONCURRENTLY} (writes go on meanwhile, on a table of any size) waits for every open transaction, that one
 * included, and the service's start hung. A session lock does the same work without a transaction.
 */
@Singleton
public class MigrationLock implements FlywayConfigurationCustomizer {

    @Override
    public void customize(FluentConfiguration configuration) {
        configuration.getPluginRegister().getPlugin(PostgreSQLConfigurationExtension.class).setTransactionalLock(false);
    }
}
