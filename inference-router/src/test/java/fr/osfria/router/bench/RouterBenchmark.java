package fr.osfria.router.bench;

import static org.awaitility.Awaitility.await;

import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.Ports;
import fr.osfria.testing.OpenAiSimulator;
import fr.osfria.testing.TestKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Not a test: figures, run with {@code bench/router.sh}. The router runs as its own process (the packaged
 * application, heap capped at 512 MiB) in front of two simulated vLLM servers, and so does the Kafka broker; nginx,
 * from Debian's package, is the baseline proxy. Prints latency added at a fixed rate, concurrent streams held, and heap before and after a long
 * run.
 */
class RouterBenchmark {

    private static final String MODEL = "bench/model";
    private static final String BODY = "{\"model\":\"" + MODEL + "\",\"prompt\":\"hello\",\"max_tokens\":1}";
    private static final int RATE = Integer.getInteger("bench.rate", 1000);
    private static final int SECONDS = Integer.getInteger("bench.seconds", 60);
    private static final int STREAMS = Integer.getInteger("bench.streams", 2000);
    private static final int LONG_RUN = Integer.getInteger("bench.long-run-seconds", 60);
    private static final int WARM_UP = Integer.getInteger("bench.warm-up-seconds", 30);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 12);
    /**
     * {@code -Dbench.interleave=requests}: the paths measured together, requests interleaved one by one (each path
     * at the rate, so the machine carries three times the rate); default {@code slices}: one path at a time, in
     * turn. At load 20-30 on 2 cores, three times 1,000 req/s saturated the box (direct p50 0.5 s): use it where the
     * machine can carry it.
     */
    private static final boolean TOGETHER = "requests".equals(System.getProperty("bench.interleave", "slices"));

    @Test
    void figures() throws Exception {
        Vertx vertx = Vertx.vertx();
        OpenAiSimulator a = OpenAiSimulator.start(MODEL);
        OpenAiSimulator b = OpenAiSimulator.start(MODEL);
        Process broker = startBroker();
        String bootstrap = bootstrapOf(broker);
        int routerPort = Ports.free();
        Process router = startRouter(routerPort, a, b, bootstrap);
        Process nginx = null;
        try {
            URI routerUri = URI.create("http://127.0.0.1:" + routerPort);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> get(routerUri + "/health") == 200);
            String nginxBinary = System.getProperty("bench.nginx", "");
            URI nginxUri = null;
            if (!nginxBinary.isBlank()) {
                int nginxPort = Ports.free();
                nginx = startNginx(Path.of(nginxBinary), nginxPort, a, b);
                nginxUri = URI.create("http://127.0.0.1:" + nginxPort);
                URI n = nginxUri;
                await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> post(n + "/v1/completions") == 200);
            }
            HttpClient client = vertx.createHttpClient(new HttpClientOptions().setMaxPoolSize(512).setKeepAlive(true)
                    .setTcpNoDelay(true));

            // warm-up of every path (the router still compiles and deoptimises 20 s in: a router in service runs for
            // days), then the three measured together, their requests interleaved, same rate each, same client: the
            // box's own noise (the load generator's JIT and GC, the broker, other builds) falls on the three alike
            List<URI> targets = nonNull(URI.create(a.baseUrl()), routerUri, nginxUri);
            for (URI target : targets) {
                run(vertx, client, target, RATE, WARM_UP);
            }
            Measured[] measured = measureInterleaved(vertx, client, targets);
            Measured direct = measured[0];
            Measured viaRouter = measured[1];
            report("direct", direct.latencies(), null);
            report("router", viaRouter.latencies(), direct.latencies());
            tailSpread("router", viaRouter);
            System.out.printf("BENCH router added p99, window by window: %s (target <= 0.5 ms)%n",
                    windowed(viaRouter, direct, 99));
            System.out.printf("BENCH router added p50, window by window: %s%n", windowed(viaRouter, direct, 50));
            if (nginxUri != null) {
                Measured viaNginx = measured[2];
                report("nginx", viaNginx.latencies(), direct.latencies());
                System.out.printf("BENCH nginx added p99, window by window: %s%n", windowed(viaNginx, direct, 99));
                System.out.printf("BENCH router p99 minus nginx p99: %.3f ms; window by window: %s (target <= 0.5 ms)%n",
                        (pct(viaRouter.latencies(), 99) - pct(viaNginx.latencies(), 99)) / 1e6,
                        windowed(viaRouter, viaNginx, 99));
            } else {
                System.out.println("BENCH nginx: not measured (bench.nginx not set)");
            }

            long heapBefore = heapAfterGc(router, routerUri);
            streams(vertx, routerUri, a, b);
            // the long run in 30 s slices, heap after a full GC after each: a leak climbs, warm-up levels off
            StringBuilder series = new StringBuilder();
            long heapAfter = heapBefore;
            for (int done = 0; done < LONG_RUN; done += 30) {
                run(vertx, client, routerUri, RATE, Math.min(30, LONG_RUN - done));
                heapAfter = heapAfterGc(router, routerUri);
                series.append(String.format(" %.1f", heapAfter / 1048576.0));
            }
            System.out.printf("BENCH heap after GC every 30 s of the long run (MiB):%s%n", series);
            System.out.printf("BENCH heap after GC: %.1f MiB before, %.1f MiB after %d s at %d req/s and %d streams "
                    + "(growth %.1f MiB)%n", heapBefore / 1048576.0, heapAfter / 1048576.0, LONG_RUN, RATE, STREAMS,
                    (heapAfter - heapBefore) / 1048576.0);
        } finally {
            router.destroy();
            router.waitFor(10, TimeUnit.SECONDS);
            broker.getOutputStream().close();
            broker.waitFor(30, TimeUnit.SECONDS);
            broker.destroy();
            if (nginx != null) {
                nginx.destroy();
            }
            a.close();
            b.close();
            vertx.close();
        }
    }

    /** Latencies of one target, slice after slice, and when each slice started. */
    private record Measured(long[] latencies, List<java.time.LocalTime> sliceStarts, int sliceSeconds) {
    }

    /**
     * {@link #SECONDS} of each target in {@link #ROUNDS} windows. With {@link #TOGETHER}, every target at once, each
     * at {@link #RATE}: their requests are
     * interleaved one by one (direct, router, nginx, then the next turn starting one further), so a burst of load
     * from the other engineers' builds, a GC of the load generator or a busy simulator falls on all of them in the
     * same milliseconds. Sequential slices left the router's p99 at the mercy of which slice the noise hit.
     */
    private static Measured[] measureInterleaved(Vertx vertx, HttpClient client, List<URI> targets) throws Exception {
        int window = Math.max(1, SECONDS / ROUNDS);
        long[][] latencies = new long[targets.size()][RATE * window * ROUNDS];
        List<java.time.LocalTime> starts = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            starts.add(java.time.LocalTime.now());
            if (TOGETHER) {
                long[][] l = run(vertx, client, targets, RATE, window);
                for (int t = 0; t < targets.size(); t++) {
                    System.arraycopy(l[t], 0, latencies[t], round * l[t].length, l[t].length);
                }
            } else { // one slice per target in turn, the order turning each round
                for (int k = 0; k < targets.size(); k++) {
                    int t = (round + k) % targets.size();
                    long[] l = run(vertx, client, targets.get(t), RATE, window);
                    System.arraycopy(l, 0, latencies[t], round * l.length, l.length);
                }
            }
        }
        Measured[] measured = new Measured[targets.size()];
        for (int t = 0; t < targets.size(); t++) {
            measured[t] = new Measured(latencies[t], starts, window);
        }
        return measured;
    }

    /** One target alone (the warm-ups, the long run). */
    private static long[] run(Vertx vertx, HttpClient client, URI target, int rate, int seconds) throws Exception {
        return run(vertx, client, List.of(target), rate, seconds)[0];
    }

    /**
     * Sends {@code rate} requests per second to each target for {@code seconds}, the targets' requests interleaved;
     * returns each request's latency in nanoseconds, per target.
     */
    private static long[][] run(Vertx vertx, HttpClient client, List<URI> targets, int rate, int seconds) throws Exception {
        int n = targets.size();
        int perTarget = rate * seconds;
        int total = perTarget * n;
        long[][] latencies = new long[n][perTarget];
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(total);
        long start = System.nanoTime();
        long interval = 1_000_000_000L / ((long) rate * n);
        // a 1 ms tick sends what the schedule says is due: a fixed rate, whatever the answers' speed
        long timer = vertx.setPeriodic(1, id -> {
            long due = Math.min(total, (System.nanoTime() - start) / interval + 1);
            while (sent.get() < due) {
                int j = sent.getAndIncrement();
                int turn = j / n;
                int t = (j + turn) % n; // each turn starts one target further: none always follows the same one
                long t0 = System.nanoTime();
                completion(client, targets.get(t), BODY).onComplete(ar -> {
                    latencies[t][turn] = System.nanoTime() - t0;
                    if (ar.failed()) {
                        failed.incrementAndGet();
                    }
                    done.countDown();
                });
            }
        });
        done.await(seconds + 60L, TimeUnit.SECONDS);
        vertx.cancelTimer(timer);
        if (failed.get() > 0) {
            System.out.printf("BENCH %s: %d of %d requests failed%n", targets, failed.get(), total);
        }
        return latencies;
    }

    /**
     * The difference of two paths' percentile window by window (each window measured both in the same
     * milliseconds): median, lowest and highest over the windows, in ms. The median is the figure a run's noise moves
     * least; a highest far above it names a window the machine took away.
     */
    private static String windowed(Measured path, Measured baseline, double p) {
        int perWindow = RATE * path.sliceSeconds();
        int windows = path.latencies().length / perWindow;
        double[] diff = new double[windows];
        for (int w = 0; w < windows; w++) {
            long[] a = Arrays.copyOfRange(path.latencies(), w * perWindow, (w + 1) * perWindow);
            long[] b = Arrays.copyOfRange(baseline.latencies(), w * perWindow, (w + 1) * perWindow);
            diff[w] = (pct(a, p) - pct(b, p)) / 1e6;
        }
        double[] sorted = diff.clone();
        Arrays.sort(sorted);
        return String.format("median %.3f ms (lowest %.3f, highest %.3f over %d windows of %d s)",
                sorted[windows / 2], sorted[0], sorted[windows - 1], windows, path.sliceSeconds());
    }

    /** Opens STREAMS slow streams at once through the router and checks every one ends with [DONE]. */
    private static void streams(Vertx vertx, URI router, OpenAiSimulator a, OpenAiSimulator b) throws Exception {
        if (STREAMS == 0) {
            return;
        }
        a.tokenDelay(250);
        b.tokenDelay(250);
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setMaxPoolSize(STREAMS).setKeepAlive(true));
        String body = "{\"model\":\"" + MODEL + "\",\"prompt\":\"hello\",\"max_tokens\":60,\"stream\":true}";
        AtomicInteger complete = new AtomicInteger();
        AtomicInteger broken = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(STREAMS);
        long start = System.nanoTime();
        for (int i = 0; i < STREAMS; i++) {
            completion(client, router, body).onComplete(ar -> {
                if (ar.succeeded() && ar.result().toString().endsWith("data: [DONE]\n\n")) {
                    complete.incrementAndGet();
                } else {
                    broken.incrementAndGet();
                }
                done.countDown();
            });
        }
        // while they all run: how many are open at once, and the heap they need
        Thread.sleep(8000);
        long running = a.running() + b.running();
        long heap = heapUsed(router);
        done.await(120, TimeUnit.SECONDS);
        System.out.printf("BENCH streams: %d opened, %d open at once mid-run, %d completed with [DONE], %d failed, "
                        + "heap in use mid-run %.1f MiB (cap 512 MiB), %.1f s%n", STREAMS, running, complete.get(),
                broken.get(), heap / 1048576.0, (System.nanoTime() - start) / 1e9);
        a.tokenDelay(0);
        b.tokenDelay(0);
        client.close();
    }

    /** A completion request with the benchmark's key; the answer's body when it is a 200. */
    private static Future<Buffer> completion(HttpClient client, URI target, String body) {
        return client.request(new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(target + "/v1/completions")
                        .putHeader("content-type", "application/json")
                        .putHeader("authorization", "Bearer " + TestKeys.ADMIN))
                .compose(req -> req.send(Buffer.buffer(body)))
                .compose(resp -> resp.statusCode() == 200 ? resp.body() : Future.failedFuture("status " + resp.statusCode()));
    }

    private static void report(String name, long[] latencies, long[] baseline) {
        System.out.printf("BENCH %-6s %d req/s: p50 %.3f ms, p90 %.3f ms, p95 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, "
                + "max %.3f ms", name, RATE, pct(latencies, 50) / 1e6, pct(latencies, 90) / 1e6,
                pct(latencies, 95) / 1e6, pct(latencies, 99) / 1e6, pct(latencies, 99.9) / 1e6,
                pct(latencies, 100) / 1e6);
        if (baseline != null) {
            System.out.printf("; added p50 %.3f ms, p99 %.3f ms", (pct(latencies, 50) - pct(baseline, 50)) / 1e6,
                    (pct(latencies, 99) - pct(baseline, 99)) / 1e6);
        }
        System.out.println();
    }

    /**
     * Where the slowest 1 % sit in time: a few 100 ms windows mean pauses (GC, safepoints), many mean a per-request
     * cost.
     */
    private static void tailSpread(String name, Measured m) {
        long[] latencies = m.latencies();
        double p99 = pct(latencies, 99);
        int perWindow = RATE / 10;
        int windowsPerSlice = m.sliceSeconds() * 10;
        java.util.Map<Integer, Integer> windows = new java.util.TreeMap<>();
        for (int i = 0; i < latencies.length; i++) {
            if (latencies[i] >= p99) {
                windows.merge(i / perWindow, 1, Integer::sum);
            }
        }
        String top = windows.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue()).limit(8)
                .map(e -> m.sliceStarts().get(e.getKey() / windowsPerSlice)
                        .plusNanos(e.getKey() % windowsPerSlice * 100_000_000L) + "+" + e.getValue())
                .collect(java.util.stream.Collectors.joining(" "));
        System.out.printf("BENCH %s slowest 1%%: in %d of %d 100-ms windows; busiest %s%n", name, windows.size(),
                latencies.length / perWindow, top);
    }

    private static double pct(long[] values, double p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int i = (int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1);
        return sorted[Math.max(0, i)];
    }

    /**
     * The Kafka broker in its own process, as in a deployment: inside this JVM its pauses would stall the load
     * generator and the simulators, and count as router latency.
     */
    private static Process startBroker() throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), InJvmKafka.class.getName())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static String bootstrapOf(Process broker) throws IOException {
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(broker.getInputStream()));
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith("bootstrap=")) {
                String servers = line.substring("bootstrap=".length());
                Thread drain = new Thread(() -> out.lines().forEach(l -> { }), "broker-output");
                drain.setDaemon(true);
                drain.start();
                return servers;
            }
        }
        throw new IllegalStateException("the benchmark's Kafka broker did not start");
    }

    private static Process startRouter(int port, OpenAiSimulator a, OpenAiSimulator b, String bootstrap)
            throws IOException {
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: bench/router.sh packages the router first");
        }
        List<String> command = new ArrayList<>();
        String cpus = System.getProperty("bench.router-cpus", "");
        if (!cpus.isBlank()) {
            command.addAll(List.of("taskset", "-c", cpus));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m"));
        command.addAll(Arrays.asList(System.getProperty("bench.jvm-opts", "-XX:+UseG1GC").trim().split("\\s+")));
        command.addAll(List.of(
                "-Dquarkus.http.port=" + port,
                "-Dkafka.bootstrap.servers=" + bootstrap,
                "-Dosfria.security.keys-file=" + TestKeys.FILE,
                "-Dosfria.router.backends=" + a.baseUrl() + "," + b.baseUrl(),
                "-Dosfria.router.admission.max-in-flight-per-backend=2000",
                "-Dosfria.router.admission.queue-size=4000",
                "-Dquarkus.log.level=WARN",
                "-jar", jar.toString()));
        return new ProcessBuilder(command).inheritIO().start();
    }

    private static Process startNginx(Path binary, int port, OpenAiSimulator a, OpenAiSimulator b) throws IOException {
        Path dir = Files.createTempDirectory("bench-nginx");
        Files.createDirectories(dir.resolve("logs"));
        String conf = """
                worker_processes 1;
                daemon off;
                error_log %1$s/logs/error.log warn;
                pid %1$s/nginx.pid;
                events { worker_connections 4096; }
                http {
                  access_log off;
                  client_body_temp_path %1$s/body;
                  proxy_temp_path %1$s/proxy;
                  fastcgi_temp_path %1$s/fastcgi;
                  uwsgi_temp_path %1$s/uwsgi;
                  scgi_temp_path %1$s/scgi;
                  upstream vllm { least_conn; server %2$s; server %3$s; keepalive 512; }
                  server {
                    listen 127.0.0.1:%4$d;
                    location / {
                      proxy_pass http://vllm;
                      proxy_http_version 1.1;
                      proxy_set_header Connection "";
                      proxy_buffering off;
                    }
                  }
                }
                """.formatted(dir, URI.create(a.baseUrl()).getAuthority(), URI.create(b.baseUrl()).getAuthority(), port);
        Files.writeString(dir.resolve("nginx.conf"), conf);
        return new ProcessBuilder(binary.toString(), "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString())
                .inheritIO().start();
    }

    private static long heapAfterGc(Process router, URI uri) throws Exception {
        new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                String.valueOf(router.pid()), "GC.run").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
        Thread.sleep(1000);
        return heapUsed(uri);
    }

    /** Sum of jvm_memory_used_bytes over the heap pools, from the router's own metrics. */
    private static long heapUsed(URI uri) throws Exception {
        String metrics = java.net.http.HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(uri + "/q/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        double sum = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return (long) sum;
    }

    private static int get(String url) {
        try {
            return java.net.http.HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static int post(String url) {
        try {
            return java.net.http.HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }


    private static List<URI> nonNull(URI... uris) {
        return Arrays.stream(uris).filter(java.util.Objects::nonNull).toList();
    }
}
