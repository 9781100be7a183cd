package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local KEK files across two rotations, and the reseal step's conversation with the services. */
class KekCliTest {

    @TempDir
    Path data;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void aFirstStartKekIsKek1AndEachRotationRetiresTheActiveOne() throws Exception {
        Files.writeString(data.resolve("kek.base64"), "q1sI2lFwqtg6qGvDhoJDhn2JX5vwVfCJmCh1ZGbk2Ow="); // as first starts wrote it
        LocalKeks keks = new LocalKeks(data);
        assertEquals(Map.of("OSFRIA_ENCRYPTION_KEK", "kek-1:q1sI2lFwqtg6qGvDhoJDhn2JX5vwVfCJmCh1ZGbk2Ow="), keks.env());

        assertEquals(0, cli(null).run(List.of("rotate")));
        assertEquals("kek-2", keks.activeId());
        assertEquals(List.of("kek-1:q1sI2lFwqtg6qGvDhoJDhn2JX5vwVfCJmCh1ZGbk2Ow="), keks.retiredEntries());
        assertEquals(0, cli(null).run(List.of("rotate")));
        assertEquals("kek-3", keks.activeId());
        assertEquals(List.of("kek-1", "kek-2"), keks.retiredIds());
        assertTrue(keks.env().get("OSFRIA_ENCRYPTION_RETIRED_KEKS").startsWith("kek-1:q1sI2"));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(data.resolve("kek.base64"))));

        // nothing is forgotten before every service has re-sealed
        assertEquals(1, cli(null).run(List.of("prune")));
        assertEquals(List.of("kek-1", "kek-2"), keks.retiredIds());
    }

    @Test
    void resealCallsEachSealingServiceUntilNothingRemainsThenAllowsPrune() throws Exception {
        LocalKeks keks = new LocalKeks(data);
        keks.activeEntry();
        keks.rotate();
        int base = freePortBlock();
        List<HttpServer> servers = new ArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        List<String> auth = new ArrayList<>();
        for (LocalSettings.Service s : LocalSettings.SERVICES) {
            if (!KekCli.SEALING.contains(s.name())) {
                continue;
            }
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", base + s.portOffset()), 0);
            AtomicInteger left = new AtomicInteger(2); // two batches to go
            server.createContext("/v1/admin/kek/reseal", x -> {
                calls.incrementAndGet();
                auth.add(x.getRequestHeaders().getFirst("Authorization"));
                int remaining = left.decrementAndGet();
                byte[] body = ("{\"kek_id\":\"kek-2\",\"resealed\":5,\"remaining\":" + remaining + ",\"unreadable\":0}")
                        .getBytes(StandardCharsets.UTF_8);
                x.sendResponseHeaders(200, body.length);
                x.getResponseBody().write(body);
                x.close();
            });
            server.start();
            servers.add(server);
        }
        try {
            KekCli cli = new KekCli(settings(base), "sk-admin", new PrintStream(out), new PrintStream(err));
            assertEquals(0, cli.run(List.of("reseal")), err.toString());
            assertEquals(6, calls.get(), "each of the three services until it has nothing left");
            assertTrue(auth.stream().allMatch("Bearer sk-admin"::equals));
            assertTrue(out.toString().contains("webhook-service: 10 re-sealed"), out.toString());
            assertTrue(keks.resealed());
            assertEquals(0, cli.run(List.of("prune")));
            assertEquals(List.of(), keks.retiredIds());
            assertFalse(keks.env().containsKey("OSFRIA_ENCRYPTION_RETIRED_KEKS"));
        } finally {
            servers.forEach(s -> s.stop(0));
        }
    }

    @Test
    void aServiceStillOnTheOldKekStopsTheReseal() throws Exception {
        LocalKeks keks = new LocalKeks(data);
        keks.rotate();
        int base = freePortBlock();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", base + 1), 0);
        server.createContext("/v1/admin/kek/reseal", x -> {
            byte[] body = "{\"kek_id\":\"kek-1\",\"resealed\":0,\"remaining\":0,\"unreadable\":0}".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.start();
        try {
            assertEquals(1, new KekCli(settings(base), "sk-admin", new PrintStream(out), new PrintStream(err)).run(List.of("reseal")));
            assertTrue(err.toString().contains("runs with KEK kek-1, not kek-2"), err.toString());
            assertFalse(keks.resealed());
        } finally {
            server.stop(0);
        }
    }

    private KekCli cli(String apiKey) {
        return new KekCli(settings(8080), apiKey, new PrintStream(out), new PrintStream(err));
    }

    private LocalSettings settings(int entryPort) {
        return LocalSettings.from(Map.of("OSFRIA_DATA", data.toString(), "OSFRIA_PORT", String.valueOf(entryPort)), data);
    }

    /** A port with the next five free too. */
    private static int freePortBlock() throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                base = s.getLocalPort();
            }
            if (base > 65000) {
                continue;
            }
            boolean free = true;
            for (int i = 1; i <= 5 && free; i++) {
                try (java.net.ServerSocket s = new java.net.ServerSocket(base + i)) {
                    free = true;
                } catch (java.io.IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no free port block");
    }
}
