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
        return block(1);
    }

    /** The first of {@code count} consecutive ports, each free right now, below the ephemeral range likewise. */
    public static int block(int count) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 32_000);
            if (allFree(base, count)) {
                return base;
            }
        }
        throw new IllegalStateException("no " + count + " free ports in a row between 20000 and 32000");
    }

    private static boolean allFree(int base, int count) {
        for (int p = base; p < base + count; p++) {
            try (ServerSocket s = new ServerSocket(p)) {
                s.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    private Ports() {
    }
}
