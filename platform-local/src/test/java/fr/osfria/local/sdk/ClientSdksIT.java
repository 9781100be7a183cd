package fr.osfria.local.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import fr.osfria.local.ChildScript;
import fr.osfria.local.e2e.SharedPlatform;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
        ChildScript suite = ChildScript.run("sdk-" + label, dir, command, env, PATIENCE_SECONDS);
        String all = String.join("\n", suite.lines());
        String tail = all.substring(Math.max(0, all.length() - 6_000));
        assertEquals(0, suite.exitCode(), label + " SDK tests failed:\n" + tail);
        // the suites skip what needs a platform when they are not told of one: here they were, so none may skip
        assertFalse(all.contains(SKIP_REASON), label + " SDK tests skipped the platform tests:\n" + tail);
    }
}
