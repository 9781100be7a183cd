package fr.osfria.local.security;

import fr.osfria.local.LocalSettings;
import fr.osfria.testing.Ports;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Small HTTP servers on loopback in place of the five services, at the ports the entry port sends them. Each reads
 * its path the way a Quarkus service does (percent-decoding and dot-segment removal, Vert.x's own normalisation),
 * records it, and answers like a service would: {@code /q/health} and the router's {@code /health} with the kind of
 * detail an attacker wants (file paths, exception texts, backend addresses), {@code /q/metrics} with metrics.
 */
final class StandInServices implements AutoCloseable {

    static final String SECRET_PATH = "/var/lib/osfria/ingest-service/blobs";
    static final String EXCEPTION_TEXT = "java.io.IOException: No space left on device";
    static final String BACKEND_URL = "http://10.20.30.40:8000";
    static final String METRIC = "osfria_secret_metric_total";

    private final Vertx vertx = Vertx.vertx();
    final int entryPort;
    /** Every normalised path a stand-in received, as "service path". */
    final List<String> received = new CopyOnWriteArrayList<>();

    /** Starts every service but those in {@code absent}; {@code down} ones answer their health checks DOWN. */
    StandInServices(Set<String> absent, Set<String> down) throws Exception {
        entryPort = Ports.block(LocalSettings.SERVICES.size() + 1);
        LocalSettings ports = settings(Map.of());
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            if (!absent.contains(service.name())) {
                vertx.createHttpServer().requestHandler(r -> answer(service.name(), down.contains(service.name()), r))
                        .listen(ports.portOf(service), "127.0.0.1").toCompletionStage().toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
            }
        }
    }

    /** The launcher's settings for these ports, with the given extra variables (OSFRIA_BIND, …). */
    LocalSettings settings(Map<String, String> env) {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("OSFRIA_PORT", String.valueOf(entryPort));
        return LocalSettings.from(all, Path.of("target").toAbsolutePath());
    }

    private void answer(String service, boolean down, HttpServerRequest request) {
        String path = HttpUtils.normalizePath(request.path());
        received.add(service + " " + path);
        request.body().onComplete(ignored -> {
            if (path.equals("/q/health") || path.startsWith("/q/health/")) {
                String check = "{\"name\":\"blob store\",\"status\":\"" + (down ? "DOWN" : "UP") + "\",\"data\":{\"path\":\""
                        + SECRET_PATH + "\"" + (down ? ",\"error\":\"" + EXCEPTION_TEXT + "\"" : "") + "}}";
                request.response().setStatusCode(down ? 503 : 200).putHeader("content-type", "application/json")
                        .end("{\"status\":\"" + (down ? "DOWN" : "UP") + "\",\"checks\":[" + check + "]}");
            } else if (path.equals("/health")) {
                request.response().setStatusCode(200).putHeader("content-type", "application/json")
                        .end("{\"status\":\"ok\",\"healthy_backends\":1,\"backends\":[{\"id\":\"" + BACKEND_URL
                                + "\",\"healthy\":true,\"error\":\"" + EXCEPTION_TEXT + "\"}]}");
            } else if (path.equals("/q/metrics") || path.equals("/metrics")) {
                request.response().setStatusCode(200).end(METRIC + "{path=\"" + SECRET_PATH + "\"} 1\n");
            } else {
                request.response().setStatusCode(200).putHeader("content-type", "application/json")
                        .end("{\"service\":\"" + service + "\",\"path\":\"" + path + "\"}");
            }
        });
    }

    /** Whether any stand-in was asked for one of its operations endpoints, however the path was spelled. */
    boolean operationsEndpointReached() {
        return received.stream().map(r -> r.substring(r.indexOf(' ') + 1))
                .anyMatch(p -> p.startsWith("/q/") || p.equals("/metrics"));
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** A status and body, from a request sent byte for byte as given (no client-side normalisation). */
    record Reply(int status, String body) {
    }

    static Reply raw(String host, int port, String method, String target) throws IOException {
        try (Socket socket = new Socket(host, port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write((method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            String reply = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(reply.substring(9, 12));
            int bodyStart = reply.indexOf("\r\n\r\n");
            return new Reply(status, bodyStart < 0 ? "" : reply.substring(bodyStart + 4));
        }
    }

}
