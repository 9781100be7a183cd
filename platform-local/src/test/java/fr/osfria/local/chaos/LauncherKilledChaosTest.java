package fr.osfria.local.chaos;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.local.StandInLauncher;
import fr.osfria.local.e2e.OsfriaCommand;
import fr.osfria.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of a person's own making around the launcher, with real processes but no platform: a launcher stand-in
 * ({@link StandInLauncher}: the launcher's own lock and child records, two {@code sleep} children) and the real
 * {@code osfria up} command, {@code status} and {@code down} (their code, run in this JVM). Two launchers started at once on one data directory
 * (exactly one may run); a launcher killed with SIGKILL, whose children run on ({@code status} says so, {@code up}
 * refuses to start beside them, {@code down} stops them); and {@code down} of a running launcher. The same with the
 * real platform's seven children: {@code PlatformChaosIT}'s second start. Each process is a JVM start: few of them.
 */
class LauncherKilledChaosTest {

    @TempDir
    Path data;

    @TempDir
    Path outputs;

    private final Map<String, String> env = new HashMap<>();
    private final List<ProcessHandle> started = new ArrayList<>();

    @BeforeEach
    void ports() {
        env.put("OSFRIA_DATA", data.toString());
        env.put("OSFRIA_PORT", String.valueOf(Ports.block(6)));
        env.put("OSFRIA_KAFKA_PORT", String.valueOf(Ports.free()));
        env.put("OSFRIA_KAFKA_CONTROLLER_PORT", String.valueOf(Ports.free()));
        env.put("OSFRIA_KAFKA_APPS_PORT", String.valueOf(Ports.free()));
        env.put("OSFRIA_POSTGRES_PORT", String.valueOf(Ports.free()));
    }

    @AfterEach
    void stopWhatRemains() {
        started.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
    }

    @Test
    void ofTwoLaunchersStartedAtOnceOneRefusesNamingTheOtherWhichDownStops() throws Exception {
        Process first = standIn();
        Process second = standIn();
        await().atMost(Duration.ofSeconds(60)).until(() -> !first.isAlive() || !second.isAlive());
        Process refused = first.isAlive() ? second : first;
        Process running = refused == first ? second : first;
        assertEquals(1, refused.exitValue(), output(refused));
        assertTrue(output(refused).contains("Osfria already runs on " + data + " (launcher pid " + running.pid()),
                "the refusal names the running launcher:\n" + output(refused));
        List<ProcessHandle> children = awaitUp(running);
        assertTrue(Files.readString(data.resolve("osfria.run")).contains("pid=" + running.pid() + "\n"),
                "the run file names the running launcher");

        // down of a live launcher: SIGTERM, and the launcher stops its children itself (as on Ctrl-C)
        StandInLauncher.Command down = StandInLauncher.down(env);
        assertEquals(0, down.code(), down.output());
        assertTrue(down.output().contains("Stopping Osfria (launcher pid " + running.pid() + ")")
                && down.output().contains("its ports are free"), down.output());
        assertTrue(!running.isAlive(), "the launcher still runs after down");
        await().atMost(Duration.ofSeconds(10)).until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
    }

    @Test
    void aKilledLaunchersChildrenAreShownRefusedAndStoppedByDown() throws Exception {
        Process launcher = standIn();
        List<ProcessHandle> children = awaitUp(launcher);

        new ProcessBuilder("kill", "-KILL", String.valueOf(launcher.pid())).start().waitFor();
        await().atMost(Duration.ofSeconds(10)).until(() -> !launcher.isAlive());
        assertTrue(children.stream().allMatch(ProcessHandle::isAlive), "the children outlive a killed launcher");

        StandInLauncher.Command status = StandInLauncher.status(env);
        assertEquals(1, status.code(), status.output());
        assertTrue(status.output().contains("launcher is not running (was it killed?), but 2 of its processes still run"),
                status.output());
        for (String part : StandInLauncher.PARTS) {
            assertTrue(status.output().lines().anyMatch(l -> l.matches(part + "\\s+(up|starting)\\s+\\d+\\s+(" + pids(children)
                    + ")\\s.*")), part + ":\n" + status.output());
        }

        OsfriaCommand.Result up = OsfriaCommand.fromClasses(data, env, 60, "up");
        assertEquals(1, up.code(), up.output());
        assertTrue(up.output().contains("processes of an earlier ./osfria up still run on " + data)
                && up.output().matches("(?s).*ingest-service \\(pid (" + pids(children) + ")\\), kafka \\(pid (" + pids(children) + ")\\).*")
                && up.output().contains("./osfria down stops them"), up.output());

        StandInLauncher.Command down = StandInLauncher.down(env);
        assertEquals(0, down.code(), down.output());
        assertTrue(down.output().contains("The launcher is gone (killed?); stopping what it left running")
                && down.output().contains("its ports are free"), down.output());
        await().atMost(Duration.ofSeconds(10)).until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
        try (var records = Files.list(data.resolve("pids"))) {
            assertEquals(List.of(), records.toList(), "records of stopped processes are kept");
        }
    }

    /** A stand-in launcher on this test's data directory, its output in a file. */
    private Process standIn() throws IOException {
        List<String> command = List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx32m",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Dosfria.stand-in=platform-local", "-cp",
                System.getProperty("java.class.path"), StandInLauncher.class.getName());
        Path output = Files.createTempFile(outputs, "stand-in", ".out");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        Files.move(output, outputs.resolve(process.pid() + ".out")); // the same open file: its output follows it
        started.add(process.toHandle());
        return process;
    }

    /** Waits for the stand-in to be up; its children. */
    private List<ProcessHandle> awaitUp(Process launcher) {
        await().atMost(Duration.ofSeconds(60)).until(() -> output(launcher).startsWith("up ") || !launcher.isAlive());
        assertTrue(launcher.isAlive(), output(launcher));
        List<ProcessHandle> children = launcher.children().toList();
        assertEquals(StandInLauncher.PARTS.size(), children.size(), "its children: " + children);
        started.addAll(children);
        return children;
    }

    private static String pids(List<ProcessHandle> processes) {
        return String.join("|", processes.stream().map(p -> String.valueOf(p.pid())).toList());
    }

    private String output(Process process) {
        try {
            return Files.readString(outputs.resolve(process.pid() + ".out"));
        } catch (IOException e) {
            return ""; // not written yet
        }
    }
}
