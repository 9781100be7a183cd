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
import java.util.function.Consumer;

/**
 * {@code osfria up}: Kafka, PostgreSQL, the five services and the entry port on one machine, until Ctrl-C.
 * {@code osfria keys …}: manages the API keys of that platform.
 */
public final class Osfria {

    private static final String[] COLORS = {"\u001B[36m", "\u001B[35m", "\u001B[33m", "\u001B[32m", "\u001B[34m"};

    private final LocalSettings settings;
    private final PrintStream out;
    private final boolean verbose;
    private final boolean detached;
    private final List<Supervisor.Supervised<ChildProcess>> children = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Supervisor supervisor;
    private final long startedAt = System.nanoTime();
    private LocalPostgres postgres;
    private EntryProxy proxy;
    private volatile boolean stopping;
    private Map<String, String> keks;
    private RunLock lock;

    Osfria(LocalSettings settings, PrintStream out, boolean verbose, boolean detached) {
        this.settings = settings;
        this.out = out;
        this.verbose = verbose;
        this.detached = detached;
        this.supervisor = new Supervisor(out, Backoff::standard);
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
            List<String> rest = List.of(args).subList(Math.min(1, args.length), args.length);
            switch (command) {
                case "up" -> up(settings, rest);
                case "status" -> System.exit(new PlatformCommands(settings, System.out).status());
                case "logs" -> System.exit(new PlatformCommands(settings, System.out).logs(rest));
                case "down" -> System.exit(new PlatformCommands(settings, System.out).down());
                case "keys" -> System.exit(new KeysCommand(settings, System.out, System.err).run(rest));
                case "kek" -> System.exit(new KekCli(settings, System.getenv("OSFRIA_API_KEY"), System.out, System.err)
                        .run(rest));
                default -> {
                    System.err.println(USAGE);
                    System.exit(2);
                }
            }
        } catch (LocalPlatformException e) {
            System.err.println("osfria: " + e.getMessage());
            System.exit(1);
        }
    }

    static final String USAGE = "usage: osfria up [--detach] [--verbose] | status | logs [NAME] [-f] | down"
            + " | keys create|list|revoke … | kek status|rotate|reseal|prune";

    private static void up(LocalSettings settings, List<String> options) {
        boolean detach = options.contains("--detach");
        boolean verbose = options.contains("--verbose");
        for (String option : options) {
            if (!option.equals("--detach") && !option.equals("--verbose")) {
                throw new LocalPlatformException("unknown option " + option + "\n" + USAGE);
            }
        }
        if (detach) {
            System.exit(Detached.start(settings, verbose, System.out));
        }
        if ("true".equals(System.getenv(Detached.CHILD_ENV))) {
            new Osfria(settings, Detached.childOutput(settings), false, true).up();
        } else {
            new Osfria(settings, System.out, verbose, false).up();
        }
    }

    void up() {
        DataDirectory.prepare(settings.dataDir(), out);
        lock = RunLock.claim(settings.dataDir()); // held until this process ends: a second up is refused
        checkPorts();
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "osfria-stop"));
        // Ctrl-C (SIGINT) and ./osfria down (SIGTERM) run this hook. A launcher started as a script's background job
        // inherits an ignored SIGINT, which the JVM leaves ignored (sun.misc.Signal.handle cannot override it either):
        // there, as POSIX intends for background jobs, only ./osfria down stops it
        try {
            RunFile.of(settings, url()).write(settings.dataDir());
            out.println("Starting Osfria (logs in " + LogFile.path(settings.dataDir(), "x").getParent() + ")");
            String classpath = settings.home().resolve("platform-local/target/lib").toAbsolutePath() + "/*";
            long t = System.nanoTime();
            postgres = new LocalPostgres(settings);
            try {
                postgres.start();
            } catch (IOException e) {
                throw failed("PostgreSQL", e.getMessage(), "postgresql");
            }
            if (postgres.embedded()) {
                recorded("postgresql", postgres);
                supervisor.supervise("postgresql", postgres, () -> recorded("postgresql", postgres.restart()));
            }
            ready(settings.embeddedPostgres() ? "PostgreSQL" : "PostgreSQL at " + settings.postgresHost() + ":"
                    + settings.postgresPort(), t);
            t = System.nanoTime();
            KafkaAppsTls.ServerStore tls;
            try {
                tls = KafkaAppsTls.of(settings).ensure(line -> out.println("  " + line));
            } catch (LocalPlatformException e) {
                throw failed("Kafka", e.getMessage(), "kafka");
            }
            KafkaBroker kafka = new KafkaBroker(settings, tls);
            Consumer<String> kafkaLog = lines("kafka", "\u001B[90m");
            children.add(supervisor.supervise("kafka", recorded("kafka", kafka.start(classpath, kafkaLog)),
                    () -> recorded("kafka", kafka.restart(classpath, kafkaLog))));
            try {
                kafka.awaitReady(Duration.ofSeconds(60));
            } catch (LocalPlatformException e) {
                throw failed("Kafka", e.getMessage(), "kafka");
            }
            KeysCommand.reconcile(settings, out); // applications revoked while the platform was down, or made by an older version
            ready("Kafka", t);
            String adminKey = firstStartAdminKey();
            keks = new LocalKeks(settings.dataDir()).env();
            for (int i = 0; i < LocalSettings.SERVICES.size(); i++) {
                LocalSettings.Service service = LocalSettings.SERVICES.get(i);
                String color = COLORS[i];
                children.add(supervisor.supervise(service.name(), startService(service, color),
                        () -> startService(service, color)));
            }
            awaitServicesReady(Duration.ofSeconds(180), System.nanoTime());
            proxy = new EntryProxy(settings);
            proxy.start();
            supervisor.arm();
            banner(adminKey);
            if (detached) {
                Detached.detach(out);
            }
            stopped.await();
        } catch (IOException e) {
            throw new LocalPlatformException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Where a part's lines go: its log file, and with {@code --verbose} the terminal too, behind its name. */
    private Consumer<String> lines(String name, String color) {
        LogFile log = LogFile.of(settings.dataDir(), name);
        if (!verbose) {
            return log::line;
        }
        Consumer<String> terminal = ChildProcess.terminal(name, out, color);
        return line -> {
            log.line(line);
            terminal.accept(line);
        };
    }

    private void ready(String part, long since) {
        out.printf(java.util.Locale.ROOT, "  %-22s ready in %.1f s%n", part, (System.nanoTime() - since) / 1e9);
    }

    /** A part that failed to start: one line saying why, and the log to read. */
    private LocalPlatformException failed(String part, String why, String log) {
        Path file = LogFile.path(settings.dataDir(), log);
        String reason = LogFile.of(settings.dataDir(), log).reason();
        out.printf("  %-22s FAILED: %s%n", part, why);
        return new LocalPlatformException(part + " did not start: " + why
                + (reason == null || why.contains(reason) ? "" : " (last log line: " + reason + ")") + "; its log: " + file);
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
            // five JVMs and a broker start at once: on a busy laptop (load 40+ on 2 cores) the first connection took
            // longer than Agroal's 5 s and Flyway stopped the service; a start-up is allowed to be slow
            unlessSet(env, "QUARKUS_DATASOURCE_JDBC_ACQUISITION_TIMEOUT", "30S");
        }
        if ("ingest-service".equals(service.name())) {
            // a request waiting for its document holds one of the entry port's connections to the service: waits
            // may hold half of them, the other calls keep the rest; a key a quarter of those (two keys cannot take
            // every wait)
            unlessSet(env, "OSFRIA_INGEST_WAITS_MAX", EntryProxy.CONNECTIONS_PER_SERVICE / 2);
            unlessSet(env, "OSFRIA_INGEST_WAITS_PER_KEY", EntryProxy.CONNECTIONS_PER_SERVICE / 8);
            // an upload in progress holds one of those connections too: uploads a quarter of them, beside the waits'
            // half; a key a quarter of those (one key's flood leaves the other keys three quarters of the uploads)
            unlessSet(env, "OSFRIA_INGEST_UPLOADS_MAX", EntryProxy.CONNECTIONS_PER_SERVICE / 4);
            unlessSet(env, "OSFRIA_INGEST_UPLOADS_PER_KEY", EntryProxy.CONNECTIONS_PER_SERVICE / 16);
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
        return recorded(service.name(), ChildProcess.start(service.name(), List.of(ChildProcess.java(), "-Xmx384m",
                "-XX:+UseSerialGC", "-jar", jar.toString()), env, settings.home(), lines(service.name(), color)));
    }

    /** The launcher's default for a service's setting, unless the user set it in the environment (inherited then). */
    private static void unlessSet(Map<String, String> env, String name, Object value) {
        if (System.getenv(name) == null) {
            env.put(name, String.valueOf(value));
        }
    }

    /** A child just started, recorded in {@code <data>/pids} so that a down after this launcher's death finds it. */
    private <T extends Supervisor.Child> T recorded(String part, T child) {
        ChildRecords.record(settings.dataDir(), part, child.handle());
        return child;
    }

    /** Waits until every service is ready, printing each as it gets there. */
    private void awaitServicesReady(Duration timeout, long since) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = since + timeout.toNanos();
        List<LocalSettings.Service> waiting = new ArrayList<>(LocalSettings.SERVICES);
        while (!waiting.isEmpty()) {
            checkChildrenAlive();
            for (java.util.Iterator<LocalSettings.Service> it = waiting.iterator(); it.hasNext(); ) {
                LocalSettings.Service service = it.next();
                if (isReady(http, service)) {
                    ready(service.name(), since);
                    it.remove();
                }
            }
            if (!waiting.isEmpty() && System.nanoTime() > deadline) {
                String name = waiting.get(0).name();
                throw failed(name, "not ready within " + timeout.toSeconds() + " s", name);
            }
            if (!waiting.isEmpty()) {
                sleep(500);
            }
        }
    }

    private boolean isReady(HttpClient http, LocalSettings.Service service) {
        URI ready = URI.create("http://127.0.0.1:" + settings.portOf(service) + "/q/health/ready");
        try {
            return http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false; // not listening yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalPlatformException("interrupted");
        }
    }

    private String firstStartAdminKey() throws IOException {
        if (Files.exists(settings.keysFile())) {
            return null;
        }
        return KeysCli.create(settings.keysFile(), new KeyEntry("admin", null, null, Set.of("admin"),
                List.of("*"), List.of("*"), List.of("*"), true, null, null, null, null, null, null));
    }

    private String url() {
        return "http://" + bannerHost() + ":" + settings.entryPort();
    }

    private void banner(String adminKey) {
        String url = url();
        out.printf(java.util.Locale.ROOT, "  %-22s %s (all up in %.1f s)%n", "entry port", url, (System.nanoTime() - startedAt) / 1e9);
        out.println();
        out.println("Osfria is up at " + url + "   (health: " + url + "/q/health)");
        out.println("API base URL: " + url + "/api/v1");
        out.println("API reference: " + url + "/docs   (OpenAPI: " + url + "/openapi)");
        if (Routes.route("/console", false).isPresent()) {
            out.println("Console: " + url + "/console");
        }
        if (settings.reachableFromOtherMachines()) {
            out.println("The entry port listens on " + settings.bindAddress() + " (OSFRIA_BIND): other machines can reach it.");
        }
        if (adminKey != null) {
            keyBox(adminKey, url);
        } else {
            out.println("API keys: ./osfria keys list | create NAME | revoke NAME");
        }
        out.println("./osfria status | logs [NAME] [-f] | down" + (detached ? "" : "   (Ctrl-C stops everything)"));
        out.println("Data in " + settings.dataDir());
        out.println();
    }

    /**
     * The admin key of a first start, in a box that stands out. Printed to the terminal only: a detached launcher's
     * own log never holds it.
     */
    private void keyBox(String adminKey, String url) {
        List<String> lines = List.of("Admin API key: " + adminKey,
                "Shown once: store it now. The platform keeps only its hash.");
        int width = lines.stream().mapToInt(String::length).max().orElse(0);
        PrintStream terminal = detached ? Detached.terminal() : out;
        terminal.println("+" + "-".repeat(width + 2) + "+");
        lines.forEach(l -> terminal.println("| " + l + " ".repeat(width - l.length()) + " |"));
        terminal.println("+" + "-".repeat(width + 2) + "+");
        terminal.println("Try it: curl -H \"Authorization: Bearer $KEY\" " + url + "/api/v1/models");
        if (detached) {
            out.println("(the admin key was shown on the terminal that started Osfria)");
        }
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
                throw failed(child.name(), "exited during start-up (code " + child.process().exitValue() + ")",
                        child.name());
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
        ChildRecords.clear(settings.dataDir());
        RunFile.removeIfMine(settings.dataDir());
        if (lock != null) {
            lock.close();
        }
        out.println("Stopped.");
        stopped.countDown();
    }


    private void checkPorts() {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("the entry port (OSFRIA_PORT)", settings.entryPort());
        LocalSettings.SERVICES.forEach(s -> ports.put(s.name() + " (OSFRIA_PORT + " + s.portOffset() + ")", settings.portOf(s)));
        ports.put("Kafka (OSFRIA_KAFKA_PORT)", settings.kafkaPort());
        ports.put("Kafka's controller (OSFRIA_KAFKA_CONTROLLER_PORT)", settings.kafkaControllerPort());
        ports.put("Kafka's listener for applications (OSFRIA_KAFKA_APPS_PORT)", settings.kafkaAppsPort());
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
