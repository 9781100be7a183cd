package fr.osfria.local.chaos;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** A child process for the supervisor tests: answers every request with its own pid, on loopback at the given port. */
public final class TinyService {

    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 16);
        server.createContext("/", exchange -> {
            byte[] body = String.valueOf(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.out.println("serving");
    }

    private TinyService() {
    }
}
