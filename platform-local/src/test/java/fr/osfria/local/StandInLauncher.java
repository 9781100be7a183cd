package fr.osfria.local;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A launcher without a platform, for {@code chaos/LauncherKilledChaosTest}: it claims its data directory as
 * {@code ./osfria up} does ({@link RunLock#claim}), starts two {@code sleep} processes recorded as the parts
 * {@code ingest-service} and {@code kafka} ({@link ChildRecords}), writes its run file, prints {@code up PID}; on
 * SIGTERM or Ctrl-C it stops them and lets the directory go, as {@code Osfria.stopAll} does. Refused, it prints the
 * launcher's line and exits 1. Settings from the environment, as the launcher's.
 */
public final class StandInLauncher {

    public static final List<String> PARTS = List.of("ingest-service", "kafka");

    private StandInLauncher() {
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
