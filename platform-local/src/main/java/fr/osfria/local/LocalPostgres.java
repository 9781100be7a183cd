package fr.osfria.local;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The platform's PostgreSQL: a real server from binaries shipped in Maven jars, its data under the data
 * directory, kept across restarts; or, when {@code OSFRIA_POSTGRES} names one, an existing server.
 */
final class LocalPostgres implements AutoCloseable {

    private final LocalSettings settings;
    private EmbeddedPostgres embedded;

    LocalPostgres(LocalSettings settings) {
        this.settings = settings;
    }

    void start() throws IOException {
        if (!settings.embeddedPostgres()) {
            return;
        }
        Path dir = settings.dataDir().resolve("postgres");
        Files.createDirectories(dir);
        embedded = EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .setPort(settings.postgresPort())
                .start();
    }

    /** Creates each service's database unless it exists. */
    void ensureDatabase(String name) {
        String url = "jdbc:postgresql://" + settings.postgresHost() + ":" + settings.postgresPort() + "/postgres";
        try (Connection c = DriverManager.getConnection(url, settings.postgresUser(), settings.postgresPassword());
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new LocalPlatformException("cannot create database '" + name + "' on " + settings.postgresHost() + ":"
                    + settings.postgresPort() + ": " + e.getMessage(), e);
        }
    }

    String reactiveUrl(String database) {
        return "postgresql://" + settings.postgresHost() + ":" + settings.postgresPort() + "/" + database;
    }

    String jdbcUrl(String database) {
        return "jdbc:postgresql://" + settings.postgresHost() + ":" + settings.postgresPort() + "/" + database;
    }

    @Override
    public void close() throws IOException {
        if (embedded != null) {
            embedded.close();
        }
    }
}
