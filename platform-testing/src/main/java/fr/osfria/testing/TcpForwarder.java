package fr.osfria.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Passes every TCP connection made to one address on to another, byte for byte, and closes each side when the other
 * closes. Run as a process of its own ({@link #main}) inside a network namespace by {@link SilentHost}; it ends with
 * the process that started it, even one killed without its shutdown hooks.
 */
public final class TcpForwarder {

    /** {@code bind-host bind-port target-host target-port parent-pid}; prints "ready" once it listens. */
    public static void main(String[] args) throws IOException {
        ProcessHandle.of(Long.parseLong(args[4])).ifPresentOrElse(
                parent -> parent.onExit().thenRun(() -> System.exit(0)), () -> System.exit(0));
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])));
            System.out.println("ready");
            System.out.flush();
            while (true) {
                Socket client = server.accept();
                try {
                    Socket target = new Socket(args[2], Integer.parseInt(args[3]));
                    copy(client, target);
                    copy(target, client);
                } catch (IOException e) {
                    client.close();
                }
            }
        }
    }

    private static void copy(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16_384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                }
            } catch (IOException e) {
                // the other side is gone: close both
            } finally {
                close(from);
                close(to);
            }
        });
        t.setDaemon(true);
        t.start();
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    private TcpForwarder() {
    }
}
