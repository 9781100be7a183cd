package fr.osfria.local;

import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeysCli;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code osfria up}: Kafka, PostgreSQL, the five services and the entry port on one machine, until Ctrl-C.
 * {@code osfria keys …}: manages the API keys of that platform.
 */
public final class Osfria {

    private static final String[] COLORS = {"\u001B[36m", "\u001B[35m", "\u001B[33m", "\u001B[32m", "\u001B[34m"};

    private final LocalSettings settings;
    private final PrintStream out = System.out;
    private final List<Supervisor.Supervised<ChildProcess>> children = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Supervisor supervisor = new Supervisor(out, Backoff::standard);
    private LocalPostgres postgres;
    private EntryProxy proxy;
    private volatile boolean stopping;
    private Map<String, String> keks;

    Osfria(LocalSettings settings) {
        this.settings = settings;
    }

    public static void main(String[] args) {
        // the launcher's own libraries (Kafka admin client, embedded PostgreSQL) speak only when something is wrong
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        // while the broker starts, the readiness probe's connection refusals are expected
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
        // after its postmaster was killed, the embedded PostgreSQL's failed stop command is expected: the supervisor
        // reports the death and the restart itself
        System.setProperty("org.slf4j.simpleLogger.log.io.zonky", "off");
        Path home = Path.of(System.getProperty("osfria.home", ".")).toAbsolutePath().normalize();
        try {
            LocalSettings settings = LocalSettings.from(System.getenv(), home);
            String command = args.length == 0 ? "up" : args[0];
            switch (command) {
                case "up" -> new Osfria(settings).up();
                case "keys" -> System.exit(KeysCli.run(java.util.Arrays.copyOfRange(args, 1, args.length),
                        settings.keysFile().toString(), System.out, System.err));
                case "kek" -> System.exit(new KekCli(settings, System.getenv("OSFRIA_API_KEY"), System.out, System.err)
                        .run(List.of(args).subList(1, args.length)));
                default -> {
                    System.err.println("usage: osfria up | osfria keys create|list|revoke … | osfria kek status|rotate|reseal|prune");
                    System.exit(2);
                }
            }
        } catch (LocalPlatformException e) {
            System.err.println("osfria: " + e.getMessage());
            System.exit(1);
        }
    }

    void up() {
        checkDataDir();
        checkPorts();
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "osfria-stop"));
        try {
            String classpath = settings.home().resolve("platform-local/target/lib").toAbsolutePath() + "/*";
            out.println("Starting PostgreSQL" + (settings.embeddedPostgres() ? " (embedded)" : " at "
                    + settings.postgresHost() + ":" + settings.postgresPort()) + " and Kafka…");
            postgres = new LocalPostgres(settings);
            postgres.start();
            if (postgres.embedded()) {
                supervisor.supervise("postgresql", postgres, postgres::restart);
            }
            KafkaBroker kafka = new KafkaBroker(settings);
            children.add(supervisor.supervise("kafka", kafka.start(classpath, out), () -> kafka.restart(classpath, out)));
            kafka.awaitReady(Duration.ofSeconds(60));
            String adminKey = firstStartAdminKey();
            keks = new LocalKeks(settings.dataDir()).env();
            for (int i = 0; i < LocalSettings.SERVICES.size(); i++) {
                LocalSettings.Service service = LocalSettings.SERVICES.get(i);
                String color = COLORS[i];
                children.add(supervisor.supervise(service.name(), startService(service, color),
                        () -> startService(service, color)));
            }
            awaitServicesReady(Duration.ofSeconds(180));
            proxy = new EntryProxy(settings);
            proxy.start();
            supervisor.arm();
            banner(adminKey);
            stopped.await();
        } catch (IOException e) {
            throw new LocalPlatformException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ChildProcess startService(LocalSettings.Service service, String color) {
        Path jar = settings.home().resolve(service.name()).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new LocalPlatformException(jar + " is missing: build first with ./mvnw -B -DskipTests package");
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("QUARKUS_HTTP_PORT", String.valueOf(settings.portOf(service)));
        env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        env.put("KAFKA_BOOTSTRAP_SERVERS", settings.kafkaBootstrap());
        env.put("OSFRIA_SECURITY_KEYS_FILE", settings.keysFile().toString());
        env.put("OSFRIA_DATA_DIR", settings.dataDir().resolve(service.name()).toString());
        if (service.database()) {
            postgres.ensureDatabase(service.databaseName());
            env.put("QUARKUS_DATASOURCE_REACTIVE_URL", postgres.reactiveUrl(service.databaseName()));
            env.put("QUARKUS_DATASOURCE_JDBC_URL", postgres.jdbcUrl(service.databaseName()));
            env.put("QUARKUS_DATASOURCE_USERNAME", settings.postgresUser());
            env.put("QUARKUS_DATASOURCE_PASSWORD", settings.postgresPassword());
        }
        if ("embed-service".equals(service.name())) {
            env.put("DJL_CACHE_DIR", settings.dataDir().resolve(service.name()).resolve("djl").toString());
        }
        if (List.of("ingest-service", "embed-service", "webhook-service").contains(service.name())) {
            env.putAll(keks);
        }
        if ("inference-router".equals(service.name()) && !settings.routerBackends().isBlank()) {
            env.put("OSFRIA_ROUTER_BACKENDS", settings.routerBackends());
        }
        return ChildProcess.start(service.name(), List.of(ChildProcess.java(), "-Xmx384m", "-XX:+UseSerialGC",
                "-jar", jar.toString()), env, settings.home(), out, color);
    }

    private void awaitServicesReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            URI ready = URI.create("http://127.0.0.1:" + settings.portOf(service) + "/q/health/ready");
            while (true) {
                checkChildrenAlive();
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(3)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        break;
                    }
                } catch (IOException e) {
                    // not listening yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new LocalPlatformException("interrupted");
                }
                if (System.nanoTime() > deadline) {
                    throw new LocalPlatformException(service.name() + " was not ready within " + timeout.toSeconds()
                            + " s; see its lines above");
                }
                sleep(500);
            }
        }
    }

    private String firstStartAdminKey() throws IOException {
        if (Files.exists(settings.keysFile())) {
            return null;
        }
        return KeysCli.create(settings.keysFile(), new KeyEntry("admin", null, null, Set.of("admin"),
                List.of("*"), List.of("*"), List.of("*"), true, null, null, null, null, null, null));
    }

    private void banner(String adminKey) {
        String url = "http://" + bannerHost() + ":" + settings.entryPort();
        out.println();
        out.println("Osfria is up at " + url + "   (health: " + url + "/q/health)");
        out.println("API base URL: " + url + "/api/v1   (reference: " + url + "/docs, OpenAPI: " + url + "/openapi)");
        if (settings.reachableFromOtherMachines()) {
            out.println("The entry port listens on " + settings.bindAddress() + " (OSFRIA_BIND): other machines can reach it.");
        }
        if (adminKey != null) {
            out.println("Admin API key, shown once (store it now): " + adminKey);
            out.println("  try: curl -H 'Authorization: Bearer " + adminKey + "' " + url + "/api/v1/models");
        } else {
            out.println("API keys: ./osfria keys list | create NAME | revoke NAME");
        }
        out.println("Data in " + settings.dataDir() + ". Ctrl-C stops everything.");
        out.println();
    }

    /** Where a person on this machine reaches the entry port. */
    private String bannerHost() {
        String bind = settings.bindAddress();
        if (bind.equals("0.0.0.0") || bind.equals("::") || !settings.reachableFromOtherMachines()) {
            return "localhost";
        }
        return bind.contains(":") ? "[" + bind + "]" : bind;
    }

    /** During start-up a process that exits is a configuration problem: stop and say so rather than restart it. */
    private void checkChildrenAlive() {
        for (Supervisor.Supervised<ChildProcess> supervised : children) {
            ChildProcess child = supervised.current();
            if (!child.alive()) {
                throw new LocalPlatformException(child.name() + " exited during start-up (code "
                        + child.process().exitValue() + "); see its lines above");
            }
        }
    }

    private synchronized void stopAll() {
        if (stopping && stopped.getCount() == 0) {
            return;
        }
        stopping = true;
        out.println("Stopping Osfria…");
        supervisor.close();
        if (proxy != null) {
            proxy.close();
        }
        List<ChildProcess> reversed = new ArrayList<>(children.stream().map(Supervisor.Supervised::current).toList());
        java.util.Collections.reverse(reversed);
        reversed.parallelStream().filter(c -> !c.name().equals("kafka")).forEach(c -> c.stop(15));
        reversed.stream().filter(c -> c.name().equals("kafka")).forEach(c -> c.stop(20));
        try {
            if (postgres != null) {
                postgres.close();
            }
        } catch (IOException e) {
            System.err.println("osfria: PostgreSQL did not stop cleanly: " + e.getMessage());
        }
        out.println("Stopped.");
        stopped.countDown();
    }

    private void checkDataDir() {
        Path dir = settings.dataDir();
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".write", ".probe");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new LocalPlatformException("the data directory " + dir + " is not writable (" + e.getMessage()
                    + "); set OSFRIA_DATA to a directory you can write");
        }
    }

    private void checkPorts() {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("the entry port (OSFRIA_PORT)", settings.entryPort());
        LocalSettings.SERVICES.forEach(s -> ports.put(s.name() + " (OSFRIA_PORT + " + s.portOffset() + ")", settings.portOf(s)));
        ports.put("Kafka (OSFRIA_KAFKA_PORT)", settings.kafkaPort());
        ports.put("Kafka's controller (OSFRIA_KAFKA_CONTROLLER_PORT)", settings.kafkaControllerPort());
        if (settings.embeddedPostgres()) {
            ports.put("PostgreSQL (OSFRIA_POSTGRES_PORT)", settings.postgresPort());
        }
        List<String> taken = new ArrayList<>();
        ports.forEach((what, port) -> {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress("0.0.0.0", port));
            } catch (IOException e) {
                taken.add(port + " for " + what);
            }
        });
        if (!taken.isEmpty()) {
            throw new LocalPlatformException("port already in use: " + String.join(", ", taken)
                    + ". Stop what uses it, or choose other ports with the variables named.");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
