package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.testing.Ports;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged launcher refuses to start, and says why, when a port is taken or the data directory cannot be
 * written. The run command end to end (every service through the entry port, a killed service coming back, Ctrl-C
 * leaving nothing, a second start finding its data) is checked on the chaos suite's platform start, which it shares
 * to keep the suite's time: {@code chaos/PlatformChaosIT}.
 */
class LocalPlatformIT {

    @TempDir
    Path data;

    @Test
    void refusesToStartWithATakenPortOrAnUnwritableDataDirectoryAndSaysWhy() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            Run run = Run.start(Map.of("OSFRIA_DATA", data.toString(), "OSFRIA_PORT", String.valueOf(taken.getLocalPort())));
            assertEquals(1, run.exitCode());
            assertTrue(run.output().contains("port already in use: " + taken.getLocalPort() + " for the entry port (OSFRIA_PORT)"),
                    run.output());
        }
        Path notADirectory = java.nio.file.Files.writeString(data.resolve("file"), "x");
        Run run = Run.start(Map.of("OSFRIA_DATA", notADirectory.resolve("data").toString()));
        assertEquals(1, run.exitCode());
        assertTrue(run.output().contains("is not writable") && run.output().contains("OSFRIA_DATA"), run.output());
    }

    /** A part that cannot start: the launcher stops, and its one line names the part, why, and the log to read. */
    @Test
    void aPartThatFailsToStartIsNamedWithItsLogFile() throws Exception {
        // a data directory PostgreSQL cannot use: not empty, yet not a database cluster
        java.nio.file.Files.createDirectories(data.resolve("postgres"));
        java.nio.file.Files.writeString(data.resolve("postgres/PG_VERSION"), "9\n");
        Map<String, String> env = new java.util.HashMap<>(Map.of("OSFRIA_DATA", data.toString()));
        int port = Ports.block(6);
        env.put("OSFRIA_PORT", String.valueOf(port));
        env.put("OSFRIA_KAFKA_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_KAFKA_CONTROLLER_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_KAFKA_APPS_PORT", String.valueOf(Ports.block(1)));
        env.put("OSFRIA_POSTGRES_PORT", String.valueOf(Ports.block(1)));
        Run run = Run.start(env);
        assertEquals(1, run.exitCode());
        String output = run.output();
        assertTrue(output.lines().anyMatch(l -> l.matches("\\s+PostgreSQL\\s+FAILED: .+")), output);
        assertTrue(output.contains("its log: " + data.resolve("logs/postgresql.log")), output);
        assertTrue(output.contains("(last log line: initdb: error: directory"), "the server's own reason, from its log:\n" + output);
        assertTrue(output.lines().count() < 10, "a few lines, no stack trace:\n" + output);
    }

    /** One run of {@code java -jar platform-local.jar up}, its output collected. */
    private record Run(Process process, List<String> lines) {

        static Run start(Map<String, String> env) throws IOException {
            Path home = Path.of("").toAbsolutePath().getParent();
            ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                    "-Dosfria.home=" + home, "-jar", home.resolve("platform-local/target/platform-local.jar").toString(), "up")
                    .redirectErrorStream(true);
            builder.environment().putAll(env);
            Process process = builder.start();
            List<String> lines = new CopyOnWriteArrayList<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // process ended
                }
            });
            reader.setDaemon(true);
            reader.start();
            return new Run(process, lines);
        }

        int exitCode() throws InterruptedException {
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "still running:\n" + output());
            return process.exitValue();
        }

        String output() throws InterruptedException {
            Thread.sleep(200); // let the reader take the last lines
            return String.join("\n", lines);
        }
    }
}
