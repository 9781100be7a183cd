package fr.osfria.local;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.testing.Ports;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that leaves in the middle of a request must not leave the service working for nobody: a long wait for a
 * document, or a chat completion streaming to a closed socket, would hold one of the entry port's connections to
 * the service (64 for everyone) and the service's work until it ends on its own. The entry port closes its side
 * towards the service as soon as the client's connection closes.
 */
class EntryProxyClientLeavesTest {

    private final Vertx vertx = Vertx.vertx();
    private final AtomicInteger upstreamClosed = new AtomicInteger();
    private final AtomicInteger upstreamReceived = new AtomicInteger();
    private EntryProxy proxy;
    private int entryPort;

    @BeforeEach
    void start() throws Exception {
        entryPort = Ports.block(LocalSettings.SERVICES.size() + 1);
        LocalSettings settings = LocalSettings.from(Map.of("OSFRIA_PORT", String.valueOf(entryPort)),
                Path.of("target").toAbsolutePath());
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            vertx.createHttpServer().requestHandler(this::answerSlowly)
                    .listen(settings.portOf(service), "127.0.0.1").toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
        }
        proxy = new EntryProxy(settings);
        proxy.start();
    }

    @AfterEach
    void stop() {
        proxy.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    /**
     * A service's long answer: {@code /v1/documents/…} never answers (a wait), a chat completion streams forever;
     * {@code /v1/models} answers at once.
     */
    private void answerSlowly(HttpServerRequest request) {
        upstreamReceived.incrementAndGet();
        request.connection().closeHandler(v -> upstreamClosed.incrementAndGet());
        if (request.path().equals("/v1/models")) {
            request.response().putHeader("content-type", "application/json").end("{\"data\":[]}");
        } else if (request.path().startsWith("/v1/chat/")) {
            request.response().setChunked(true).putHeader("content-type", "text/event-stream");
            long timer = vertx.setPeriodic(50, id -> {
                if (!request.response().closed()) {
                    request.response().write("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n");
                }
            });
            request.response().closeHandler(v -> vertx.cancelTimer(timer));
        }
    }

    @Test
    void aClientLeavingBeforeTheAnswerClosesTheRequestToTheService() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", entryPort)) {
            socket.getOutputStream().write(("GET /v1/documents/d1?wait=30 HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            await().atMost(Duration.ofSeconds(10)).until(() -> upstreamReceived.get() == 1);
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertTrue(upstreamClosed.get() >= 1,
                "the service's request stayed open after the client left"));
    }

    @Test
    void aClientLeavingAStreamClosesTheStreamFromTheService() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", entryPort)) {
            socket.setSoTimeout(10_000);
            String body = "{\"model\":\"m\",\"stream\":true}";
            socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = socket.getInputStream();
            byte[] first = new byte[512];
            assertTrue(in.read(first) > 0, "the stream started");
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertTrue(upstreamClosed.get() >= 1,
                "the service kept streaming to a client that left"));
    }

    @Test
    void aClientLeavingAfterItsAnswersLeavesTheConnectionsToTheServiceOpenForOthers() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", entryPort)) {
            socket.setSoTimeout(10_000);
            InputStream in = socket.getInputStream();
            for (int i = 0; i < 5; i++) {
                socket.getOutputStream().write("GET /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n"
                        .getBytes(StandardCharsets.ISO_8859_1));
                String head = readAnswer(in);
                assertTrue(head.startsWith("HTTP/1.1 200"), head);
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> upstreamReceived.get() == 5);
        // the close reaching the entry port after the answers ended: nothing in progress to stop
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> upstreamClosed.get() == 0);
    }

    /** One answer of {@code {"data":[]}} (content-length 11), read to its end. */
    private static String readAnswer(InputStream in) throws java.io.IOException {
        StringBuilder text = new StringBuilder();
        while (!text.toString().endsWith("{\"data\":[]}")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            text.append((char) c);
        }
        return text.toString();
    }
}
