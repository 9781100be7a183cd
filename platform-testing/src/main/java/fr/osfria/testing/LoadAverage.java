package fr.osfria.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine's load average, printed next to timed figures: on shared cores they move with it. */
public final class LoadAverage {

    private LoadAverage() {
    }

    /** The 1, 5 and 15 minute load averages ("2.11 4.12 4.71"), or "unknown" where /proc has none. */
    public static String now() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
