package fr.osfria.local.chaos;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A company's webhook receiver on loopback: answers 200 and records, per {@code webhook-id}, the document the
 * {@code document.indexed} event names. It can be taken down (connections refused) and brought back on its port.
 */
final class WebhookReceiver implements AutoCloseable {

    private static final Pattern DOCUMENT = Pattern.compile("\"document_id\":\"(doc_[0-9a-f]+)\"");

    private final int port;
    private HttpServer server;
    /** webhook-id → the document its event is about. */
    final Map<String, String> documentByWebhookId = new ConcurrentHashMap<>();
    /** document → the webhook-ids that announced it (more than one is a duplicate event). */
    final Map<String, Set<String>> webhookIdsByDocument = new ConcurrentHashMap<>();
    /** document.indexed requests received, repeats of a webhook-id included. */
    final AtomicInteger received = new AtomicInteger();
    /** Every request received. */
    final AtomicInteger requests = new AtomicInteger();
    private java.util.concurrent.ExecutorService threads;

    WebhookReceiver(int port) {
        this.port = port;
    }

    String url() {
        return "http://127.0.0.1:" + port + "/hook";
    }

    synchronized void up() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.createContext("/hook", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                requests.incrementAndGet();
                String id = exchange.getRequestHeaders().getFirst("webhook-id");
                Matcher m = DOCUMENT.matcher(body);
                if (id != null && body.contains("\"event\":\"document.indexed\"") && m.find()) {
                    received.incrementAndGet();
                    documentByWebhookId.put(id, m.group(1));
                    webhookIdsByDocument.computeIfAbsent(m.group(1), d -> ConcurrentHashMap.newKeySet()).add(id);
                }
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        threads = java.util.concurrent.Executors.newFixedThreadPool(4);
        server.setExecutor(threads);
        server.start();
    }

    synchronized void down() {
        if (server != null) {
            server.stop(0);
            server = null;
            threads.shutdownNow();
        }
    }

    @Override
    public void close() {
        down();
    }
}
