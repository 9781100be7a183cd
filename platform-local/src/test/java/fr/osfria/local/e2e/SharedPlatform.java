package fr.osfria.local.e2e;

import fr.osfria.testing.OpenAiSimulator;
import fr.osfria.testing.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The one real local platform that the failsafe ITs of this module share: started once per failsafe JVM, on first
 * use, exactly as {@code ./osfria up} runs it ({@code platform-local.jar up}), with two OpenAI simulators as the
 * router's backends, and stopped at the end of the test run ({@link SharedPlatformStopper}, a JUnit launcher
 * session listener, with a JVM shutdown hook as the fallback), so that no process outlives the JVM.
 *
 * <p>Order of the ITs (see {@code junit-platform.properties}): classes are run by {@code @Order}, and those without
 * one (the non-destructive ITs, e.g. {@code sdk.ClientSdksIT}) run before {@code chaos.PlatformChaosIT}
 * ({@code @Order(Integer.MAX_VALUE)}), which kills the platform's processes and ends with Ctrl-C.
 */
public final class SharedPlatform {

    /** The models both simulated backends serve: the chaos suite's, and the one the documentation's examples use. */
    public static final List<String> MODELS = List.of("chaos-model", "deepseek-r2-78b-int4");

    private static SharedPlatform instance;
    private static boolean stopped;

    private final Path data;
    private final Map<String, String> env;
    private final OpenAiSimulator first;
    private final OpenAiSimulator second;
    private final LaunchedPlatform launched;
    private final String url;
    private final String adminKey;
    private final int entryPort;
    private final long upSeconds;

    private SharedPlatform(Path data, Map<String, String> env, OpenAiSimulator first, OpenAiSimulator second,
                           LaunchedPlatform launched, String url, String adminKey, int entryPort, long upSeconds) {
        this.data = data;
        this.env = env;
        this.first = first;
        this.second = second;
        this.launched = launched;
        this.url = url;
        this.adminKey = adminKey;
        this.entryPort = entryPort;
        this.upSeconds = upSeconds;
    }

    /** The platform, started on the first call of this JVM (about 40 s on 2 cores). */
    public static synchronized SharedPlatform get() throws IOException, InterruptedException {
        if (stopped) {
            throw new IllegalStateException("the shared platform is stopped: the test run is over");
        }
        if (instance == null) {
            instance = start();
        }
        if (!instance.launched.isAlive()) {
            throw new IllegalStateException("the shared platform was stopped (the chaos suite's Ctrl-C ends it: it runs last)");
        }
        return instance;
    }

    private static SharedPlatform start() throws IOException, InterruptedException {
        Path data = Files.createTempDirectory("osfria-e2e");
        String[] models = MODELS.toArray(String[]::new);
        OpenAiSimulator first = OpenAiSimulator.start(models);
        OpenAiSimulator second = OpenAiSimulator.start(models);
        int entryPort = Ports.block(6);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("OSFRIA_PORT", String.valueOf(entryPort));
        env.put("OSFRIA_KAFKA_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_KAFKA_CONTROLLER_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_KAFKA_APPS_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_POSTGRES_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_ROUTER_BACKENDS", first.baseUrl() + "," + second.baseUrl());
        // the ITs' webhook receivers are their own servers on loopback, which webhook targets refuse unless listed
        env.put("OSFRIA_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1");
        // the default schedule (5 s, then 5 min) delivers too, past the chaos suite's budget
        env.put("OSFRIA_WEBHOOK_RETRY_SCHEDULE", "2s,4s,8s,15s,15s,15s,15s,15s,15s,15s");
        // files by URL come from the ITs' own file server on loopback: listed with its port, and allowed to be local
        env.put("OSFRIA_INGEST_FETCH_ALLOWED_HOSTS", "127.0.0.1:" + Ports.block(1));
        env.put("OSFRIA_INGEST_FETCH_ALLOWED_LOCAL_HOSTS", "127.0.0.1");
        // files a SIGKILL leaves without their document are swept within the chaos suite (default: after 1 h)
        env.put("OSFRIA_INGEST_FILE_SWEEP_GRACE", "15s");
        env.put("OSFRIA_INGEST_FILE_SWEEP_INTERVAL", "5s");
        // a key made by a test (createKey, the SDK suites' and the console's) is accepted within 1 s instead of up to 5
        env.put("OSFRIA_SECURITY_RELOAD_INTERVAL", "1s");
        // every JVM of the platform (the launcher, Kafka, the five services) stops at C1, as the suite's own test JVMs
        // do: a start took 36 s instead of 52 on 2 cores, C2 compiling beside six starting JVMs. The benchmarks'
        // platform (bench.BenchPlatform) keeps the full JIT, as production does.
        env.put("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1");
        long start = System.nanoTime();
        LaunchedPlatform launched = LaunchedPlatform.start(data, env);
        String url;
        String key;
        try {
            url = launched.awaitUp(300);
            key = launched.adminKey();
            // the banner's key line follows its URL line: the terminal reader may not have read it yet
            for (int i = 0; key == null && i < 50; i++) {
                Thread.sleep(100);
                key = launched.adminKey();
            }
            if (key == null) {
                throw new IllegalStateException("the first start printed no admin key:\n" + launched.tail(40));
            }
        } catch (RuntimeException | AssertionError | InterruptedException e) {
            // the whole terminal, for whoever reads the failure (its message holds only the last lines)
            Files.write(Path.of("target/shared-platform-failed-start-" + System.currentTimeMillis() + ".log"), launched.lines());
            launched.close();
            first.close();
            second.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(SharedPlatform::stop, "osfria-e2e-stop"));
        long upSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        System.out.printf("E2E shared platform up at %s in %d s (data %s)%n", url, upSeconds, data);
        return new SharedPlatform(data, Collections.unmodifiableMap(env), first, second, launched, url, key, entryPort, upSeconds);
    }

    /** Stops the platform if this JVM started it (Ctrl-C, as a user does; forced after 90 s) and its simulators. */
    static synchronized void stop() {
        SharedPlatform p = instance;
        if (p == null || stopped) {
            return;
        }
        stopped = true;
        p.launched.close();
        try {
            Files.write(Path.of("target/shared-platform.log"), p.launched.lines());
        } catch (IOException e) {
            // the log is for whoever reads a failure; the run is over either way
        }
        p.first.close();
        p.second.close();
        removeData(p.data);
    }

    /** Each run's database, Kafka log and files (70-100 MB): left behind, they pile up in the temporary folder. */
    private static void removeData(Path data) {
        try (var paths = Files.walk(data)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            System.out.printf("E2E could not remove %s: %s%n", data, e.getMessage());
        }
    }

    /** The entry URL ({@code http://127.0.0.1:PORT}), as the banner prints it. */
    public String url() {
        return url;
    }

    /** The admin key printed on the first start. */
    public String adminKey() {
        return adminKey;
    }

    /** The entry port; service {@code i}'s own port is entry port + its offset (ingest-service + 1 … alert-bridge + 5). */
    public int entryPort() {
        return entryPort;
    }

    /** {@code OSFRIA_DATA} of this platform. */
    public Path dataDir() {
        return data;
    }

    /** The variables it was started with (to start it again on the same data). */
    public Map<String, String> env() {
        return env;
    }

    public long upSeconds() {
        return upSeconds;
    }

    /** The router's two simulated backends, both serving {@link #MODELS}. */
    public OpenAiSimulator firstBackend() {
        return first;
    }

    public OpenAiSimulator secondBackend() {
        return second;
    }

    public LaunchedPlatform launched() {
        return launched;
    }

    /** The public API through the entry port with the admin key. */
    public PlatformApi adminApi() {
        return new PlatformApi(url, adminKey);
    }

    /**
     * Creates a key as a user does ({@code ./osfria keys create NAME OPTIONS}, e.g. {@code "--read", "docs"}) and
     * returns it once every service accepts it (they reload the key file within seconds).
     */
    public String createKey(String name, String... options) throws IOException, InterruptedException {
        Path home = Path.of("").toAbsolutePath().getParent();
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Dosfria.home=" + home, "-jar", home.resolve("platform-local/target/platform-local.jar").toString(),
                "keys", "create", name));
        command.addAll(List.of(options));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().putAll(env);
        builder.environment().put("OSFRIA_DATA", data.toString());
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0 || !out.startsWith("sk-osfria-")) {
            throw new IllegalStateException("osfria keys create " + name + " failed: " + out);
        }
        awaitAccepted(out);
        return out;
    }

    /** Until no service answers 401 to the key (each reloads the key file on its own schedule). */
    private void awaitAccepted(String key) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<HttpRequest> probes = List.of(
                probe("/v1/models").GET().build(),
                probe("/v1/documents?collection=probe&limit=1").GET().build(),
                probe("/v1/webhooks").GET().build(),
                probe("/v1/search").header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"query\":\"probe\",\"collection\":\"probe\"}")).build());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (HttpRequest probe : probes) {
            HttpRequest withKey = HttpRequest.newBuilder(probe, (n, v) -> true).header("Authorization", "Bearer " + key).build();
            while (http.send(withKey, HttpResponse.BodyHandlers.discarding()).statusCode() == 401) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("a new key is still refused after 60 s: " + probe.uri());
                }
                Thread.sleep(200);
            }
        }
    }

    private HttpRequest.Builder probe(String path) {
        return HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10));
    }
}
