package fr.osfria.ingest.appkafka.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.security.network.HostResolver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.mutiny.core.Vertx;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
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
 * their lookups used to run, had threads): another application's fetch goes on at once.
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
            FileFetcher fetcher = new FileFetcher(config(hosts), resolver, vertx, new SimpleMeterRegistry());
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
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    /** The fetch settings only: every host listed, {@code files.test} allowed to be local (it is on loopback). */
    private static IngestConfig config(List<String> hosts) {
        Map<String, Object> fetch = Map.of("allowedHosts", Optional.of(hosts),
                "allowedLocalHosts", Optional.of(List.of("files.test")), "timeout", Duration.ofSeconds(30));
        IngestConfig.Fetch settings = (IngestConfig.Fetch) Proxy.newProxyInstance(IngestConfig.class.getClassLoader(),
                new Class<?>[] {IngestConfig.Fetch.class}, (p, m, args) -> fetch.get(m.getName()));
        return (IngestConfig) Proxy.newProxyInstance(IngestConfig.class.getClassLoader(), new Class<?>[] {IngestConfig.class},
                (p, m, args) -> m.getName().equals("fetch") ? settings : null);
    }
}
