package fr.osfria.local;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where the local platform keeps its data and which ports it takes, from environment variables with defaults.
 * The five services listen on the entry port + 1 … + 5.
 */
public record LocalSettings(Path home, Path dataDir, int entryPort, int kafkaPort, int kafkaControllerPort,
                            String postgresHost, int postgresPort, String postgresUser, String postgresPassword,
                            boolean embeddedPostgres, String routerBackends) {

    /** The services, in start order, with the path prefixes the entry port sends them. */
    public static final List<Service> SERVICES = List.of(
            new Service("ingest-service", 1, true, List.of("/v1/documents", "/v1/audit")),
            new Service("embed-service", 2, false, List.of("/v1/search")),
            new Service("inference-router", 3, false,
                    List.of("/v1/chat/", "/v1/completions", "/v1/models", "/health", "/metrics")),
            new Service("webhook-service", 4, true, List.of("/v1/webhooks")),
            new Service("alert-bridge", 5, false, List.of("/v1/alerts")));

    /** A service of the platform: its module name, port offset, whether it has a database, its public paths. */
    public record Service(String name, int portOffset, boolean database, List<String> paths) {
        /** Its database name: {@code ingest-service} → {@code ingest}. */
        public String databaseName() {
            return name.substring(0, name.indexOf('-'));
        }
    }

    public static LocalSettings from(Map<String, String> env, Path home) {
        Path data = Path.of(env.getOrDefault("OSFRIA_DATA", home.resolve(".osfria").toString())).toAbsolutePath();
        String pg = env.get("OSFRIA_POSTGRES");
        String pgHost = "127.0.0.1";
        int pgPort = port(env, "OSFRIA_POSTGRES_PORT", 15432);
        if (pg != null && !pg.isBlank()) {
            int colon = pg.lastIndexOf(':');
            pgHost = colon > 0 ? pg.substring(0, colon) : pg;
            pgPort = colon > 0 ? parsePort("OSFRIA_POSTGRES", pg.substring(colon + 1)) : 5432;
        }
        return new LocalSettings(home, data,
                port(env, "OSFRIA_PORT", 8080),
                port(env, "OSFRIA_KAFKA_PORT", 19092),
                port(env, "OSFRIA_KAFKA_CONTROLLER_PORT", 19093),
                pgHost, pgPort,
                env.getOrDefault("OSFRIA_POSTGRES_USER", "postgres"),
                env.getOrDefault("OSFRIA_POSTGRES_PASSWORD", "postgres"),
                pg == null || pg.isBlank(),
                env.getOrDefault("OSFRIA_ROUTER_BACKENDS", ""));
    }

    public int portOf(Service service) {
        return entryPort + service.portOffset();
    }

    public Path keysFile() {
        return dataDir.resolve("keys.json");
    }

    public String kafkaBootstrap() {
        return "127.0.0.1:" + kafkaPort;
    }

    private static int port(Map<String, String> env, String name, int fallback) {
        String value = env.get(name);
        return value == null || value.isBlank() ? fallback : parsePort(name, value);
    }

    private static int parsePort(String name, String value) {
        try {
            int port = Integer.parseInt(value.trim());
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new LocalPlatformException(name + " must be a port number (1-65535), not '" + value + "'");
        }
    }
}
