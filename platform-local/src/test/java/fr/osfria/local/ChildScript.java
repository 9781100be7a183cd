package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A script the tests run beside the platform (an SDK's suite, the browser scenarios): its output streamed into the
 * test log under a label as it comes, then its exit code and lines. One that overruns its patience is killed, with
 * its children, and fails the test.
 */
public record ChildScript(int exitCode, List<String> lines) {

    public static ChildScript run(String label, Path dir, List<String> command, Map<String, String> env,
                                  long patienceSeconds) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().putAll(env);
        long started = System.nanoTime();
        Process process = builder.start();
        List<String> lines = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    System.out.println("[" + label + "] " + line);
                    synchronized (lines) {
                        lines.add(line);
                    }
                }
            } catch (IOException e) {
                // the script ended
            }
        }, label);
        reader.start();
        if (!process.waitFor(patienceSeconds, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            synchronized (lines) {
                fail(label + " did not end within " + patienceSeconds + " s:\n" + String.join("\n", lines));
            }
        }
        reader.join(5_000);
        System.out.printf("%s: exit %d in %.1f s%n", label, process.exitValue(), (System.nanoTime() - started) / 1e9);
        synchronized (lines) {
            return new ChildScript(process.exitValue(), List.copyOf(lines));
        }
    }
}
