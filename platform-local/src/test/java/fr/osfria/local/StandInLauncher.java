package fr.osfria.local;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A launcher without a platform, for {@code chaos/LauncherKilledChaosTest}: it claims its data directory as
 * {@code ./osfria up} does ({@link RunLock#claim}), starts two {@code sleep} processes recorded as the parts
 * {@code ingest-service} and {@code kafka} ({@link ChildRecords}), writes its run file, prints {@code up PID}; on
 * SIGTERM or Ctrl-C it stops them and lets the directory go, as {@code Osfria.stopAll} does. Refused, it prints the
 * launcher's line and exits 1. Settings from the environment, as the launcher's. Also {@code osfria status} and
 * {@code down} run in the test's own JVM (the same {@code PlatformCommands}; a JVM start per command is seconds on a
 * loaded machine).
 */
public final class StandInLauncher {

    public static final List<String> PARTS = List.of("ingest-service", "kafka");

    /** What a command printed, and its exit code. */
    public record Command(int code, String output) {
    }

    private StandInLauncher() {
    }

    /** {@code osfria status} on the platform these settings name. */
    public static Command status(Map<String, String> env) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = new PlatformCommands(LocalSettings.from(env, Path.of("").toAbsolutePath()), new PrintStream(out, true,
                StandardCharsets.UTF_8)).status();
        return new Command(code, out.toString(StandardCharsets.UTF_8));
    }

    /** {@code osfria down} on the platform these settings name. */
    public static Command down(Map<String, String> env) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = new PlatformCommands(LocalSettings.from(env, Path.of("").toAbsolutePath()), new PrintStream(out, true,
                StandardCharsets.UTF_8)).down();
        return new Command(code, out.toString(StandardCharsets.UTF_8));
    }

    public static void main(String[] args) throws Exception {
        LocalSettings settings = LocalSettings.from(System.getenv(), Path.of("").toAbsolutePath());
        RunLock lock;
        try {
            lock = RunLock.claim(settings.dataDir());
        } catch (LocalPlatformException e) {
            System.out.println("osfria: " + e.getMessage());
            System.exit(1);
            return;
        }
        List<Process> children = new ArrayList<>();
        for (String part : PARTS) {
            Process child = new ProcessBuilder("sleep", "600").start();
            ChildRecords.record(settings.dataDir(), part, child.toHandle());
            children.add(child);
        }
        RunFile.of(settings, "http://localhost:" + settings.entryPort()).write(settings.dataDir());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            children.forEach(Process::destroy);
            ChildRecords.clear(settings.dataDir());
            RunFile.removeIfMine(settings.dataDir());
            lock.close();
        }));
        System.out.println("up " + ProcessHandle.current().pid());
        Thread.sleep(Long.MAX_VALUE);
    }
}
