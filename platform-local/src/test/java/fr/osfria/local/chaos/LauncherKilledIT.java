package fr.osfria.local.chaos;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.local.LocalSettings;
import fr.osfria.local.e2e.LaunchedPlatform;
import fr.osfria.local.e2e.OsfriaCommand;
import fr.osfria.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two faults of a person's own making, on a platform of its own (not the shared one, which it would stop): two
 * {@code ./osfria up} started at the same instant on one data directory (exactly one may start a broker and a
 * PostgreSQL on it; the other refuses, naming the first), then the running launcher killed with SIGKILL, which leaves
 * its children running without it: {@code status} must say so, a new {@code up} must refuse to start beside them,
 * and {@code down} must stop every one of them. The launcher is killed as soon as every part was started, without
 * waiting for the services to be ready, to keep the test short (155 s under a load average of 50-60).
 */
class LauncherKilledIT {

    @TempDir
    Path data;

    @Test
    void ofTwoLaunchersOneRefusesAndDownStopsWhatAKilledLauncherLeft() throws Exception {
        Map<String, String> env = new HashMap<>();
        int entryPort = Ports.block(6);
        env.put("OSFRIA_PORT", String.valueOf(entryPort));
        env.put("OSFRIA_KAFKA_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_KAFKA_CONTROLLER_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_KAFKA_APPS_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_POSTGRES_PORT", String.valueOf(Ports.block(1)));
        List<ProcessHandle> started = new ArrayList<>();
        LaunchedPlatform first = LaunchedPlatform.start(data, env);
        LaunchedPlatform second = LaunchedPlatform.start(data, env);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> !first.isAlive() || !second.isAlive());
            LaunchedPlatform refused = first.isAlive() ? second : first;
            LaunchedPlatform running = refused == first ? second : first;
            await().atMost(Duration.ofSeconds(5)).until(() -> refused.lines().stream().anyMatch(l -> l.contains("already runs")));
            String refusal = String.join("\n", refused.lines());
            assertTrue(refusal.contains("Osfria already runs on " + data + " (launcher pid " + running.handle().pid() + ")"),
                    "the second launcher names the first:\n" + refusal);
            assertTrue(refused.lines().size() <= 2, "one line, nothing started:\n" + refusal);

            // every part started (recorded), then the launcher dies without a word to its children
            List<String> parts = new ArrayList<>(List.of("postgresql", "kafka"));
            LocalSettings.SERVICES.forEach(s -> parts.add(s.name()));
            await().atMost(Duration.ofSeconds(120)).until(() -> !running.isAlive()
                    || parts.stream().allMatch(p -> Files.exists(data.resolve("pids/" + p + ".pid"))));
            assertTrue(running.isAlive(), "the launcher stopped:\n" + running.tail(20));
            started.addAll(running.descendants());
            running.postmaster().ifPresent(started::add);
            started.removeIf(p -> !p.isAlive()); // Kafka's storage formatting, done
            assertTrue(started.size() >= 7, "PostgreSQL, Kafka and five services: " + started);
            LaunchedPlatform.sigkill(running.handle());
            await().atMost(Duration.ofSeconds(10)).until(() -> !running.isAlive());
            assertTrue(started.stream().allMatch(ProcessHandle::isAlive), "the children outlive a killed launcher");

            OsfriaCommand.Result status = OsfriaCommand.run(data, env, 60, "status");
            assertEquals(1, status.code(), status.output());
            assertTrue(status.output().contains("launcher is not running (was it killed?), but 7 of its processes still run")
                    && status.output().lines().anyMatch(l -> l.matches("kafka\\s+up\\s+\\d+\\s+\\d+\\s.*")), status.output());
            OsfriaCommand.Result again = OsfriaCommand.run(data, env, 60, "up");
            assertEquals(1, again.code(), again.output());
            assertTrue(again.output().contains("still run on " + data) && again.output().contains("./osfria down stops them"),
                    again.output());

            OsfriaCommand.Result down = OsfriaCommand.run(data, env, 120, "down");
            assertEquals(0, down.code(), down.output());
            assertTrue(down.output().contains("The launcher is gone") && down.output().contains("its ports are free"), down.output());
            await().atMost(Duration.ofSeconds(10)).until(() -> started.stream().noneMatch(ProcessHandle::isAlive));
            OsfriaCommand.Result after = OsfriaCommand.run(data, env, 60, "status");
            assertEquals(3, after.code(), "status after down:\n" + after.output());
            assertTrue(after.output().contains("Osfria is not running"), after.output());
        } finally {
            first.close();
            second.close();
            started.forEach(ProcessHandle::destroyForcibly);
        }
    }
}
