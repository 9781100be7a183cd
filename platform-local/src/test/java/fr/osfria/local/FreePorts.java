package fr.osfria.local;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/** Free ports for the tests that start the launcher or its stand-ins. */
public final class FreePorts {

    private FreePorts() {
    }

    /**
     * The first of {@code count} consecutive free ports, below Linux's ephemeral range (32768+): a port there can be
     * taken by any outgoing connection between this check and the service binding it.
     */
    public static int block(int count) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 32_000);
            boolean free = true;
            for (int p = base; p < base + count && free; p++) {
                try (ServerSocket s = new ServerSocket(p)) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no free ports");
    }
}
