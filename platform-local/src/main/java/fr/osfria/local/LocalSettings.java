package fr.osfria.local;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where the local platform keeps its data, which ports it takes and what its entry port shows, from environment
 * variables with defaults. The five services listen on the entry port + 1 … + 5, on the loopback interface only;
 * the entry port listens on {@code bindAddress} (loopback unless {@code OSFRIA_BIND} says otherwise).
 */
public record LocalSettings(Path home, Path dataDir, int entryPort, int kafkaPort, int kafkaControllerPort,
                            String postgresHost, int postgresPort, String postgresUser, String postgresPassword,
                            boolean embeddedPostgres, String routerBackends, String bindAddress, boolean exposeAlerts,
                            int kafkaAppsPort, List<String> kafkaAppsHostnames) {

    /**
     * The services, in start order, with the public API path prefixes the entry port sends them. alert-bridge's
     * receiver is internal: Alertmanager posts to it on its own port, unless {@code OSFRIA_EXPOSE_ALERTS=true}.
     */
    public static final List<Service> SERVICES = List.of(
            new Service("ingest-service", 1, true, List.of("/v1/documents", "/v1/audit", "/v1/me"), false),
            new Service("embed-service", 2, false, List.of("/v1/search"), false),
            new Service("inference-router", 3, false, List.of("/v1/chat/", "/v1/completions", "/v1/models", "/v1/usage"), false),
            new Service("webhook-service", 4, true, List.of("/v1/webhooks"), false),
            new Service("alert-bridge", 5, false, List.of("/v1/alerts"), true));

    /**
     * A service of the platform: its module name, port offset, whether it has a database, its API paths, and
     * whether those paths are internal (routed by the entry port only when {@code OSFRIA_EXPOSE_ALERTS=true}).
     */
    public record Service(String name, int portOffset, boolean database, List<String> paths, boolean internal) {
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
                env.getOrDefault("OSFRIA_ROUTER_BACKENDS", ""),
                bindAddress(env.get("OSFRIA_BIND")),
                flag(env, "OSFRIA_EXPOSE_ALERTS"),
                port(env, "OSFRIA_KAFKA_APPS_PORT", 19094),
                hostnames("OSFRIA_KAFKA_APPS_HOSTNAMES", env.get("OSFRIA_KAFKA_APPS_HOSTNAMES")));
    }

    /** Whether the entry port routes this service's API paths. */
    public boolean exposes(Service service) {
        return !service.internal() || exposeAlerts;
    }

    /** Whether the entry port can be reached from other machines (it listens on something other than loopback). */
    public boolean reachableFromOtherMachines() {
        try {
            return !InetAddress.getByName(bindAddress).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return true;
        }
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

    /**
     * The host internal applications are told to connect to: the first of {@code OSFRIA_KAFKA_APPS_HOSTNAMES}, else
     * the bind address, or {@code localhost} when it is loopback or every interface (the machine's own name would be
     * a guess). Always one of the names of the listener's certificate ({@link KafkaAppsTls#names}).
     */
    public String advertisedHost() {
        if (!kafkaAppsHostnames.isEmpty()) {
            String first = kafkaAppsHostnames.get(0);
            return first.contains(":") ? "[" + first + "]" : first;
        }
        if (bindAddress.equals("0.0.0.0") || bindAddress.equals("::") || !reachableFromOtherMachines()) {
            return "localhost";
        }
        return bindAddress.contains(":") ? "[" + bindAddress + "]" : bindAddress;
    }

    /** The broker's SASL listener for internal applications ({@code OSFRIA_KAFKA_APPS_PORT}), as they reach it. */
    public String kafkaAppsBootstrap() {
        return advertisedHost() + ":" + kafkaAppsPort;
    }

    /** A DNS name (letters, digits, '-', dot-separated labels), which keytool and TLS host checks take as is. */
    static boolean isDnsName(String name) {
        return name.length() <= 253 && !name.matches("[0-9.]+")
                && name.matches("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
    }

    /**
     * {@code OSFRIA_KAFKA_APPS_HOSTNAMES}: names or IP addresses applications use to reach the APPS listener, comma
     * separated; they go into its certificate, and the first is the one the client settings print.
     */
    private static List<String> hostnames(String variable, String value) {
        if (value == null || value.isBlank()) {
            return List.of();
        }
        java.util.List<String> names = new java.util.ArrayList<>();
        for (String part : value.split(",")) {
            String name = part.trim();
            if (name.startsWith("[") && name.endsWith("]")) {
                name = name.substring(1, name.length() - 1);
            }
            if (name.isEmpty()) {
                continue;
            }
            if (!isDnsName(name) && !isIpLiteral(name)) {
                throw new LocalPlatformException(variable + " must list host names or IP addresses, comma separated; '"
                        + part.trim() + "' is neither");
            }
            names.add(isDnsName(name) ? name.toLowerCase(java.util.Locale.ROOT) : name);
        }
        return List.copyOf(names);
    }

    private static boolean isIpLiteral(String address) {
        boolean ipv4 = address.matches("(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}");
        boolean ipv6 = address.matches("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"); // a literal with ':' is never looked up in DNS
        if (!ipv4 && !ipv6) {
            return false;
        }
        try {
            InetAddress.getByName(address); // a literal: parsed, never looked up
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** An IP address literal: a host name would be resolved at each start and could silently change interface. */
    private static String bindAddress(String value) {
        if (value == null || value.isBlank()) {
            return "127.0.0.1";
        }
        String address = value.trim();
        if (address.startsWith("[") && address.endsWith("]")) {
            address = address.substring(1, address.length() - 1);
        }
        if (!isIpLiteral(address)) {
            throw new LocalPlatformException("OSFRIA_BIND must be an IP address (127.0.0.1, 0.0.0.0, ::, or one of "
                    + "this machine's addresses), not '" + value + "'");
        }
        return address;
    }

    private static boolean flag(Map<String, String> env, String name) {
        String value = env.getOrDefault(name, "").trim();
        return switch (value.toLowerCase(java.util.Locale.ROOT)) {
            case "", "false", "0", "no" -> false;
            case "true", "1", "yes" -> true;
            default -> throw new LocalPlatformException(name + " must be true or false, not '" + value + "'");
        };
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
