package fr.osfria.ingest.appkafka;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An internal file server on 127.0.0.1, with the answers a hostile or broken one gives: a file, a 404, a redirect,
 * an endless body, a drip of one byte a second, and silence; and a file held back until the test lets it go.
 * Counts the requests of each path.
 */
final class FileServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, CountDownLatch> held = new ConcurrentHashMap<>();
    private volatile String redirectTo;

    FileServer(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.createContext("/", this::answer);
        server.setExecutor(threads);
        server.start();
    }

    void file(String path, byte[] bytes) {
        files.put(path, bytes);
    }

    /** A file answered only once {@link #release} is called (or after a minute): a fetch the test holds open. */
    void held(String path, byte[] bytes) {
        held.put(path, new CountDownLatch(1));
        files.put(path, bytes);
    }

    void release(String path) {
        held.get(path).countDown();
    }

    void redirectTo(String location) {
        redirectTo = location;
    }

    int requests(String path) {
        AtomicInteger n = requests.get(path);
        return n == null ? 0 : n.get();
    }

    int requests() {
        return requests.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    private void answer(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        requests.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
        try (exchange) {
            byte[] file = files.get(path);
            CountDownLatch hold = held.get(path);
            if (hold != null) {
                hold.await(1, TimeUnit.MINUTES);
            }
            if (file != null) {
                exchange.sendResponseHeaders(200, file.length);
                exchange.getResponseBody().write(file);
            } else if (path.equals("/redirect")) {
                exchange.getResponseHeaders().add("Location", redirectTo);
                exchange.sendResponseHeaders(302, -1);
            } else if (path.equals("/endless")) {
                exchange.sendResponseHeaders(200, 0); // chunked, no length announced
                OutputStream out = exchange.getResponseBody();
                byte[] block = "endless text ".repeat(5000).getBytes(StandardCharsets.UTF_8);
                for (int i = 0; i < 100_000; i++) { // ~6 GB unless the reader stops
                    out.write(block);
                }
            } else if (path.equals("/drip")) {
                exchange.sendResponseHeaders(200, 0);
                OutputStream out = exchange.getResponseBody();
                for (int i = 0; i < 600; i++) {
                    out.write('x');
                    out.flush();
                    Thread.sleep(1000);
                }
            } else if (path.equals("/silent")) {
                Thread.sleep(600_000);
            } else {
                exchange.sendResponseHeaders(404, -1);
            }
        } catch (IOException | InterruptedException e) {
            // the reader hung up: what a stopped fetch does
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
