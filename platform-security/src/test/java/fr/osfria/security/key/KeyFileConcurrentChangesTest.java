package fr.osfria.security.key;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keys create} and {@code keys revoke} run at once, as a provisioning script or two operators do: each read the
 * file, changed it and wrote it back, so one command's write could undo the other's. A key was printed to its owner
 * and missing from the file, or a revoked key came back.
 */
class KeyFileConcurrentChangesTest {

    @TempDir
    Path dir;

    @Test
    void commandsInSeveralProcessesAtOnceLoseNoChange() throws Exception {
        Path file = dir.resolve("keys.json");
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        for (int i = 0; i < 25; i++) {
            assertEquals(0, KeysCli.run(new String[] {"create", "leaked-" + i}, file.toString(), quiet, quiet));
        }
        List<Process> processes = new ArrayList<>();
        for (String prefix : List.of("a-", "b-", "c-")) {
            processes.add(child(file, "create", prefix));
        }
        processes.add(child(file, "revoke", "leaked-"));
        for (Process p : processes) {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "a child did not end");
            assertEquals(0, p.exitValue(), new String(p.getErrorStream().readAllBytes()));
        }
        Map<String, KeyEntry> keys = byName(file);
        for (String prefix : List.of("a-", "b-", "c-")) {
            for (int i = 0; i < 25; i++) {
                assertTrue(keys.containsKey(prefix + i), prefix + i + " was created and is missing from the file");
            }
        }
        for (int i = 0; i < 25; i++) {
            assertTrue(keys.get("leaked-" + i).revoked(), "leaked-" + i + " was revoked and is active again");
        }
        assertEquals(100, keys.size());
    }

    @Test
    void threadsOfOneProcessLoseNoChange() throws Exception {
        Path file = dir.resolve("keys.json");
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                String prefix = "t" + t + "-";
                runs.add(threads.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        int code = KeysCli.run(new String[] {"create", prefix + i}, file.toString(), quiet, quiet);
                        if (code != 0) {
                            return code;
                        }
                    }
                    return 0;
                }));
            }
            for (Future<Integer> run : runs) {
                assertEquals(0, run.get(60, TimeUnit.SECONDS));
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(100, byName(file).size());
    }

    private static Process child(Path file, String command, String prefix) throws Exception {
        return new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), KeysCliLoop.class.getName(), file.toString(), command,
                prefix, "25").redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static Map<String, KeyEntry> byName(Path file) {
        return KeyFile.read(file).stream().collect(Collectors.toMap(KeyEntry::name, Function.identity()));
    }
}
