package fr.osfria.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/** A loopback port free right now, for a process a test starts itself. */
public final class Ports {

    /**
     * A port below Linux's ephemeral range (32768+), free right now: a port in that range can be taken as the local
     * port of any outgoing connection between this check and the process binding it, and the build runs two modules'
     * tests side by side (-T2 in .mvn/maven.config), each with its clients, brokers and services.
     */
    public static int free() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(20_000, 32_000);
            try (ServerSocket s = new ServerSocket(port)) {
                return port;
            } catch (IOException e) {
                // taken: try another
            }
        }
        throw new IllegalStateException("no free port between 20000 and 32000");
    }

    private Ports() {
    }
}
