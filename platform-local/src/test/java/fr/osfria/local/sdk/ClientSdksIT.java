package fr.osfria.local.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import fr.osfria.local.e2e.SharedPlatform;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client SDKs' own test suites ({@code sdks/python}: {@code python3 -m unittest}; {@code sdks/js}:
 * {@code node --test}) run against the packaged platform, as a developer runs them against {@code ./osfria up}: the
 * entry URL and the admin key in {@code OSFRIA_BASE_URL} / {@code OSFRIA_API_KEY}, the repository and the data
 * directory in {@code OSFRIA_HOME} / {@code OSFRIA_DATA} (their tests make their own keys with {@code osfria keys}).
 * Their output goes to this test's log. A missing {@code python3} (3.9+) or {@code node} (18+) skips here and fails
 * under {@code CI=true}, so CI never passes by skipping.
 */
class ClientSdksIT {

    private static final Path HOME = Path.of("").toAbsolutePath().getParent();
    private static final long PATIENCE_SECONDS = 300;
    private static final boolean CI = "true".equals(System.getenv("CI"));
    /** What both suites say when they skip the tests that need a platform. */
    private static final String SKIP_REASON = "set OSFRIA_BASE_URL and OSFRIA_API_KEY";

    private static Map<String, String> env;

    @BeforeAll
    static void platform() throws Exception {
        SharedPlatform platform = SharedPlatform.get();
        env = Map.of(
                "OSFRIA_BASE_URL", platform.url(),
                "OSFRIA_API_KEY", platform.adminKey(),
                "OSFRIA_HOME", HOME.toString(),
                "OSFRIA_DATA", platform.dataDir().toString(),
                // `osfria keys` runs `java`: this JVM's, whatever the PATH says
                "PATH", Path.of(ProcessHandle.current().info().command().orElseThrow()).getParent()
                        + java.io.File.pathSeparator + System.getenv("PATH"),
                "PYTHONDONTWRITEBYTECODE", "1",
                "PIP_NO_INDEX", "1");
    }

    @Test
    void pythonSdkPassesItsTestsAgainstThePlatform() throws Exception {
        String python = Toolchain.require("python3", List.of("python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"),
                Pattern.compile("(\\d+)\\.(\\d+)"), 3, 9, CI);
        run("python", HOME.resolve("sdks/python"), List.of(python, "-m", "unittest", "discover", "-s", "tests", "-v"));
    }

    @Test
    void javascriptSdkPassesItsTestsAgainstThePlatform() throws Exception {
        String node = Toolchain.require("node", List.of("node", "--version"), Pattern.compile("v(\\d+)\\.(\\d+)"), 18, 0, CI);
        run("js", HOME.resolve("sdks/js"), List.of(node, "--test", "test/"));
    }

    /** Runs one SDK's suite in {@code dir}, its output streamed into the log; fails if it fails or overruns. */
    private static void run(String label, Path dir, List<String> command) throws Exception {
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
                // the suite ended
            }
        }, "sdk-" + label);
        reader.start();
        if (!process.waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            fail(label + " SDK tests did not end within " + PATIENCE_SECONDS + " s");
        }
        reader.join(5_000);
        System.out.printf("SDK %s tests: exit %d in %.1f s%n", label, process.exitValue(), (System.nanoTime() - started) / 1e9);
        String all;
        synchronized (lines) {
            all = String.join("\n", lines);
        }
        String tail = all.substring(Math.max(0, all.length() - 6_000));
        assertEquals(0, process.exitValue(), label + " SDK tests failed:\n" + tail);
        // the suites skip what needs a platform when they are not told of one: here they were, so none may skip
        assertFalse(all.contains(SKIP_REASON), label + " SDK tests skipped the platform tests:\n" + tail);
    }
}
