package fr.osfria.ingest.appkafka.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.security.network.HostResolver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.mutiny.core.Vertx;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * One application's files are on names its name server black-holes (more fetches than the shared worker pool, where
 * their lookups used to run, had threads): another application's fetch goes on at once. A name not looked up in time
 * is a lookup time-out (send again later), not a refused URL, at the deadline the settings give.
 */
class SlowNamesOfOneApplicationTest {

    private static final int HANGING = 25;

    @Test
    void anApplicationsHangingNamesDelayNoOtherApplicationsFetch() throws Exception {
        CountDownLatch blackHole = new CountDownLatch(1);
        HostResolver resolver = host -> {
            if (host.endsWith(".blackhole.test")) {
                try {
                    blackHole.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
        };
        Vertx vertx = Vertx.vertx();
        Path dir = Files.createTempDirectory("fetch-names-test");
        try {
            int port = vertx.createHttpServer().requestHandler(req -> req.response().endAndForget("a file"))
                    .listenAndAwait(0, "127.0.0.1").actualPort();
            List<String> hosts = new ArrayList<>(List.of("files.test:" + port));
            for (int i = 0; i < HANGING; i++) {
                hosts.add("h" + i + ".blackhole.test");
            }
            FileFetcher fetcher = new FileFetcher(config(hosts, Duration.ofSeconds(15)), resolver, vertx,
                    new SimpleMeterRegistry());
            for (int i = 0; i < HANGING; i++) {
                fetcher.fetch("slow-app", "http://h" + i + ".blackhole.test/x", dir.resolve("h" + i), 1024)
                        .subscribe().with(f -> { });
            }
            Fetched fetched = fetcher.fetch("other-app", "http://files.test:" + port + "/doc", dir.resolve("doc"), 1024)
                    .await().atMost(Duration.ofSeconds(5));
            assertTrue(fetched.ok(), "the other application's file: " + fetched);
            assertEquals("a file", Files.readString(dir.resolve("doc")));
            fetcher.close(null);
        } finally {
            blackHole.countDown();
            vertx.closeAndAwait();
            deleteAll(dir);
        }
    }

    @Test
    void aNameNotLookedUpWithinTheConfiguredDeadlineIsALookupTimeoutNotARefusedUrl() throws Exception {
        CountDownLatch blackHole = new CountDownLatch(1);
        HostResolver resolver = host -> {
            if (host.equals("gone.test")) { // the name server's "no such name"
                throw new UnknownHostException(host);
            }
            try {
                blackHole.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {10, 0, 0, 9})};
        };
        Vertx vertx = Vertx.vertx();
        Path dir = Files.createTempDirectory("fetch-names-test");
        try {
            FileFetcher fetcher = new FileFetcher(config(List.of("slow.blackhole.test", "gone.test"),
                    Duration.ofMillis(500)), resolver, vertx, new SimpleMeterRegistry());
            long start = System.nanoTime();
            Fetched slow = fetcher.fetch("app", "http://slow.blackhole.test/x", dir.resolve("x"), 1024)
                    .await().atMost(Duration.ofSeconds(10));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(Fetched.LOOKUP_TIMEOUT, slow.failure());
            // the configured 500 ms, not the 15 s default nor the fetch's 30 s
            assertTrue(millis >= 450 && millis < 3_000, "failed after " + millis + " ms");

            Fetched gone = fetcher.fetch("app", "http://gone.test/x", dir.resolve("y"), 1024)
                    .await().atMost(Duration.ofSeconds(5));
            assertEquals(Fetched.REFUSED, gone.failure(), "a name that does not exist is refused, as before");
            fetcher.close(null);
        } finally {
            blackHole.countDown();
            vertx.closeAndAwait();
            deleteAll(dir);
        }
    }

    @Test
    void aLookupDeadlineNotUnderTheFetchTimeoutIsWarnedOfAtStartUp() {
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    warnings.add(r.getMessage() + " " + java.util.Arrays.toString(r.getParameters()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(FileFetcher.class.getName());
        logger.addHandler(handler);
        Vertx vertx = Vertx.vertx();
        try {
            HostResolver resolver = host -> new InetAddress[] {InetAddress.getByAddress(host, new byte[] {10, 0, 0, 9})};
            new FileFetcher(config(List.of("files.test"), Duration.ofSeconds(5)), resolver, vertx,
                    new SimpleMeterRegistry()).close(null);
            assertEquals(List.of(), warnings, "5 s under the fetch's 30 s: nothing to warn of");

            // the fetch's deadline would end every hanging lookup's fetch first: fetch_timeout, never url_lookup_timeout
            new FileFetcher(config(List.of("files.test"), Duration.ofSeconds(30)), resolver, vertx,
                    new SimpleMeterRegistry()).close(null);
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("osfria.ingest.fetch.lookups.deadline")
                    && warnings.get(0).contains("osfria.ingest.fetch.timeout"), warnings.get(0));
        } finally {
            logger.removeHandler(handler);
            vertx.closeAndAwait();
        }
    }

    /**
     * The fetch settings only: every host listed, {@code files.test} allowed to be local (it is on loopback), lookups
     * as by default but for their deadline.
     */
    private static IngestConfig config(List<String> hosts, Duration lookupDeadline) {
        Map<String, Object> lookups = Map.of("perApplication", 2, "threads", 32, "deadline", lookupDeadline,
                "remembered", Duration.ofSeconds(30));
        Map<String, Object> fetch = Map.of("allowedHosts", Optional.of(hosts),
                "allowedLocalHosts", Optional.of(List.of("files.test")), "timeout", Duration.ofSeconds(30),
                "lookups", proxy(IngestConfig.Fetch.Lookups.class, lookups));
        IngestConfig.Fetch settings = proxy(IngestConfig.Fetch.class, fetch);
        return (IngestConfig) Proxy.newProxyInstance(IngestConfig.class.getClassLoader(), new Class<?>[] {IngestConfig.class},
                (p, m, args) -> m.getName().equals("fetch") ? settings : null);
    }

    private static <T> T proxy(Class<T> type, Map<String, Object> values) {
        return type.cast(Proxy.newProxyInstance(IngestConfig.class.getClassLoader(), new Class<?>[] {type},
                (p, m, args) -> values.get(m.getName())));
    }

    private static void deleteAll(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}
