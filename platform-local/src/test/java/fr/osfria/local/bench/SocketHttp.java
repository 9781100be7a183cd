package fr.osfria.local.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The leanest HTTP/1.1 client the benchmark can have: one kept-alive connection, the request written and the answer
 * read on the calling thread. The JDK's {@code HttpClient} hands every exchange to its selector thread and back
 * through an executor (three or four thread wake-ups a call, each waiting for a core on a loaded machine): measured
 * side by side, the difference is the client's share of a call, not the platform's. Content-Length and chunked
 * answers only (what Quarkus and the entry port send).
 */
final class SocketHttp implements AutoCloseable {

    private final String host;
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    SocketHttp(String baseUrl) throws IOException {
        URI uri = URI.create(baseUrl);
        this.host = uri.getHost() + ":" + uri.getPort();
        this.socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5000);
        socket.setSoTimeout(30_000);
        this.out = socket.getOutputStream();
        this.in = new BufferedInputStream(socket.getInputStream());
    }

    record Answer(int status, String body) {
    }

    Answer get(String path, String key) throws IOException {
        return exchange("GET", path, key, null);
    }

    Answer post(String path, String key, String json) throws IOException {
        return exchange("POST", path, key, json);
    }

    private Answer exchange(String method, String path, String key, String json) throws IOException {
        byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
        if (key != null) {
            head.append("Authorization: Bearer ").append(key).append("\r\n");
        }
        if (json != null) {
            head.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, request, 0, headBytes.length);
        System.arraycopy(body, 0, request, headBytes.length, body.length);
        out.write(request); // one write: the request in one segment, as curl sends it
        out.flush();
        String status = line();
        int code = Integer.parseInt(status.split(" ", 3)[1]);
        int length = -1;
        boolean chunked = false;
        for (String header = line(); !header.isEmpty(); header = line()) {
            String lower = header.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Integer.parseInt(lower.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        if (chunked) {
            for (int size = Integer.parseInt(line().split(";")[0].trim(), 16); size > 0; size = Integer.parseInt(line().split(";")[0].trim(), 16)) {
                answer.write(in.readNBytes(size));
                line();
            }
            line(); // the empty line after the last chunk (no trailers)
        } else if (length >= 0) {
            answer.write(in.readNBytes(length));
        } else {
            throw new IOException(method + " " + path + ": an answer without Content-Length or chunks");
        }
        return new Answer(code, answer.toString(StandardCharsets.UTF_8));
    }

    private String line() throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed by the server");
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
