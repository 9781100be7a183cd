package fr.osfria.security.chaos;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.security.error.DatabaseUnavailable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What a reactive client meets while PostgreSQL crashes and comes back, as the platform's supervisor lets it (the
 * chaos suite's scenario c): every failure must be recognised as "the database is out of reach", so that a request
 * gets 503 with Retry-After and a pipeline step waits for the database, not a 500 or a dead letter. A real server is
 * killed under real queries: backends killed (the postmaster resets every connection and recovers), then the
 * postmaster itself (connections refused until it is started again).
 */
class PostgresKilledUnderQueriesTest {

    @Test
    void everyFailureOfACrashingServerIsTheDatabaseOutOfReach() throws Exception {
        Path dir = Files.createTempDirectory("osfria-pg-crash");
        // a commit must survive the crash, as the platform's own server is set (the library's default loses the
        // last commits: the test table vanished in one run, and its statements failed for that reason, not the crash)
        var server = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                .setDataDirectory(dir).setCleanDataDirectory(false).setServerConfig("synchronous_commit", "on").start();
        int port = server.getPort();
        Vertx vertx = Vertx.vertx();
        ExecutorService clients = Executors.newFixedThreadPool(7);
        try {
            Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(6))
                    .connectingTo(new PgConnectOptions().setHost("localhost").setPort(port).setDatabase("postgres")
                            .setUser("postgres").setPassword("postgres"))
                    .using(vertx).build();
            done(pool.query("CREATE TABLE t (id serial PRIMARY KEY, v text)").execute());

            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicInteger answered = new AtomicInteger();
            AtomicBoolean running = new AtomicBoolean(true);
            List<java.util.concurrent.Future<?>> loops = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                // transactions of several statements, as Hibernate Reactive runs an upload
                loops.add(clients.submit(() -> run(running, answered, failures, () -> pool.withTransaction(c -> c
                        .query("INSERT INTO t (v) VALUES ('x')").execute()
                        .compose(r -> c.query("SELECT pg_sleep(0.005)").execute())
                        .compose(r -> c.query("SELECT count(*) FROM t").execute())))));
            }
            // statements queued on one connection before the previous ones answered (pipelined)
            loops.add(clients.submit(() -> run(running, answered, failures, () -> pool.withConnection(c -> pipelined(c)))));

            awaitAnswers(answered, 50);
            Path dataDir = dir;
            ProcessHandle postmaster = postmaster(dataDir);
            for (int round = 0; round < 4; round++) {
                killOneBackend(postmaster); // the postmaster ends every connection and recovers
                awaitAnswers(answered, answered.get() + 20);
            }
            List<ProcessHandle> children = postmaster.descendants().toList();
            sigkill(postmaster.pid());
            for (ProcessHandle child : children) {
                sigkill(child.pid());
            }
            postmaster.onExit().get(10, TimeUnit.SECONDS);
            Thread.sleep(1_500); // refused connections meanwhile
            // as the platform's supervisor does: the dead instance lets go of the directory, a new one starts on it
            server.close();
            server = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                    .setDataDirectory(dir).setCleanDataDirectory(false).setServerConfig("synchronous_commit", "on")
                    .setPort(port).start();
            awaitAnswers(answered, answered.get() + 20);
            running.set(false);
            for (java.util.concurrent.Future<?> loop : loops) {
                loop.get(60, TimeUnit.SECONDS);
            }

            Map<String, Integer> kinds = new LinkedHashMap<>();
            List<String> unrecognised = new ArrayList<>();
            for (Throwable failure : failures) {
                kinds.merge(chain(failure), 1, Integer::sum);
                if (!DatabaseUnavailable.causes(failure)) {
                    unrecognised.add(chain(failure));
                }
            }
            System.out.printf("PG CRASH %d answers, %d failures: %s%n", answered.get(), failures.size(), kinds);
            assertTrue(failures.size() > 0, "the crashes failed no statement: the test attacked nothing");
            assertTrue(unrecognised.isEmpty(), "failures taken for bugs (a 500) while the database was out of reach: "
                    + unrecognised.stream().distinct().toList());
        } finally {
            clients.shutdownNow();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            server.close();
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static Future<Object> pipelined(SqlConnection c) {
        List<Future<?>> all = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            all.add(c.query("SELECT pg_sleep(0.002)").execute());
        }
        return Future.all(all).map(r -> null);
    }

    private static void run(AtomicBoolean running, AtomicInteger answered, Queue<Throwable> failures,
                            java.util.function.Supplier<Future<?>> statement) {
        while (running.get()) {
            try {
                statement.get().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                answered.incrementAndGet();
            } catch (ExecutionException e) {
                failures.add(e.getCause());
                pause(20);
            } catch (Exception e) {
                failures.add(e);
                pause(20);
            }
        }
    }

    private static void awaitAnswers(AtomicInteger answered, int atLeast) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(20)).until(() -> answered.get() >= atLeast);
    }

    private static <T> T done(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static ProcessHandle postmaster(Path dataDir) throws IOException {
        long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
        return ProcessHandle.of(pid).orElseThrow();
    }

    /** A client backend ({@code postgres: USER DB HOST(PORT) ...} in its process title), killed as the OOM killer would. */
    private static void killOneBackend(ProcessHandle postmaster) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
            for (ProcessHandle child : postmaster.children().toList()) {
                if (String.join(" ", commandLine(child.pid())).startsWith("postgres: postgres postgres")) {
                    sigkill(child.pid());
                    return true;
                }
            }
            return false; // between a crash and the clients' next connections
        });
    }

    /** The process's arguments (a backend's process title), or none when it has just ended. */
    private static List<String> commandLine(long pid) {
        try {
            String raw = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8);
            return Arrays.stream(raw.split("\0")).filter(s -> !s.isEmpty()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void sigkill(long pid) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-9", String.valueOf(pid)).start().waitFor();
    }

    private static String chain(Throwable failure) {
        StringBuilder s = new StringBuilder();
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 8; t = t.getCause(), depth++) {
            s.append(depth == 0 ? "" : " <- ").append(t.getClass().getName()).append(": ").append(t.getMessage());
        }
        return s.toString();
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
