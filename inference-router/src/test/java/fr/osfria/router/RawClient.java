package fr.osfria.router;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * HTTP/1.1 by hand over a socket, for what ordinary clients will not do: send half a body and stop, or take a
 * stream's bytes as slowly as they like.
 */
public final class RawClient implements AutoCloseable {

    private final Socket socket;

    /** Connected to the router under test; {@code receiveBuffer} > 0 asks the kernel for a small receive window. */
    public RawClient(int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress("127.0.0.1", RouterClient.uri("/").getPort()), 5000);
        socket.setSoTimeout(10_000);
    }

    /** A POST's request line and headers, announcing {@code contentLength} bytes of JSON; null key: none sent. */
    public RawClient head(String path, String key, long contentLength) throws IOException {
        StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nhost: localhost\r\n"
                + "content-type: application/json\r\ncontent-length: " + contentLength + "\r\n");
        if (key != null) {
            head.append("authorization: Bearer ").append(key).append("\r\n");
        }
        return send(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
    }

    public RawClient send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return this;
    }

    public RawClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The status line and headers of the next response, waiting at most {@code timeout}. */
    public String readHead(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head);
            }
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                return head.toString(StandardCharsets.US_ASCII);
            }
        }
    }

    /** Exactly {@code length} bytes of body. */
    public String readBody(int length) throws IOException {
        return new String(socket.getInputStream().readNBytes(length), StandardCharsets.UTF_8);
    }

    /** Reads and drops whatever comes until the router closes the connection; false when it is still open after {@code timeout}. */
    public boolean closedByPeerWithin(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buffer = new byte[8192];
        while (System.nanoTime() < deadline) {
            socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            try {
                if (socket.getInputStream().read(buffer) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true; // reset
            }
        }
        return false;
    }

    public static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                return Integer.parseInt(line.substring(15).trim());
            }
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
