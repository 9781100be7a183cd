package fr.osfria.local.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import fr.osfria.local.ChildScript;
import fr.osfria.local.e2e.SharedPlatform;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
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
    private static CompletableFuture<ChildScript> python;
    private static CompletableFuture<ChildScript> javascript;

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
        // the two suites run at once (each mostly waits for the platform): their keys, collections and webhooks are
        // their own, named after their run
        python = start("python", HOME.resolve("sdks/python"), () -> List.of(Toolchain.require("python3",
                List.of("python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"),
                Pattern.compile("(\\d+)\\.(\\d+)"), 3, 9, CI), "-m", "unittest", "discover", "-s", "tests", "-v"));
        javascript = start("js", HOME.resolve("sdks/js"), () -> List.of(Toolchain.require("node",
                List.of("node", "--version"), Pattern.compile("v(\\d+)\\.(\\d+)"), 18, 0, CI), "--test", "test/"));
    }

    @Test
    void pythonSdkPassesItsTestsAgainstThePlatform() throws Exception {
        check("python", python);
    }

    @Test
    void javascriptSdkPassesItsTestsAgainstThePlatform() throws Exception {
        check("js", javascript);
    }

    /** A suite's run, started in {@code platform()} beside the other one, or the skip or failure of its toolchain. */
    private static CompletableFuture<ChildScript> start(String label, Path dir, Callable<List<String>> command) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return ChildScript.run("sdk-" + label, dir, command.call(), env, PATIENCE_SECONDS);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
    }

    /** Fails if the suite failed or overran, and passes on its toolchain's skip or failure as this test's. */
    private static void check(String label, CompletableFuture<ChildScript> run) throws Exception {
        ChildScript suite;
        try {
            suite = run.get(PATIENCE_SECONDS + 60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c ? c.getCause() : e.getCause();
            if (cause instanceof Exception ex) {
                throw ex;
            }
            throw (Error) cause;
        }
        String all = String.join("\n", suite.lines());
        String tail = all.substring(Math.max(0, all.length() - 6_000));
        assertEquals(0, suite.exitCode(), label + " SDK tests failed:\n" + tail);
        // the suites skip what needs a platform when they are not told of one: here they were, so none may skip
        assertFalse(all.contains(SKIP_REASON), label + " SDK tests skipped the platform tests:\n" + tail);
    }
}
