package fr.osfria.local.console;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * What the console's browser tests need, fetched by the test set-up when the machine lacks it (as the k8s module's
 * tests fetch promtool): Debian's Chromium ({@code apt-get install chromium} as root, else {@code apt-get download}
 * and {@code dpkg -x} under {@code target/tools}) and {@code playwright-core} from npm, at the version pinned by the
 * console's committed {@code package.json} and {@code package-lock.json} ({@code npm ci} into {@code target/}).
 * Missing, the tests are skipped on a workstation and fail under {@code CI=true}.
 */
final class BrowserTools {

    private static final boolean CI = "true".equals(System.getenv("CI"));
    private static final Path SYSTEM_CHROMIUM = Path.of("/usr/bin/chromium");

    private BrowserTools() {
    }

    /** Chromium's launcher: the system's, installed if need be. */
    static Path chromium() {
        if (!Files.isExecutable(SYSTEM_CHROMIUM)) {
            if ("root".equals(System.getProperty("user.name"))) {
                String[] install = {"apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"};
                if (run(Path.of("."), install) != 0) {
                    // a fresh machine may have no package lists yet
                    run(Path.of("."), "apt-get", "update", "-q");
                    run(Path.of("."), install);
                }
            } else {
                return unpacked();
            }
        }
        return require(Files.isExecutable(SYSTEM_CHROMIUM) ? Optional.of(SYSTEM_CHROMIUM) : Optional.empty(), "Chromium");
    }

    /** Without root: the package unpacked under target/tools (its libraries must already be on the machine). */
    private static Path unpacked() {
        Path dir = Path.of("target", "tools", "chromium").toAbsolutePath();
        Path launcher = dir.resolve("usr/lib/chromium/chromium");
        if (!Files.isExecutable(launcher)) {
            try {
                Files.createDirectories(dir);
                if (run(dir, "apt-get", "download", "chromium", "chromium-common") == 0) {
                    try (var debs = Files.list(dir)) {
                        for (Path deb : debs.filter(p -> p.toString().endsWith(".deb")).toList()) {
                            run(dir, "dpkg", "-x", deb.toString(), dir.toString());
                        }
                    }
                }
            } catch (IOException e) {
                // reported as missing below
            }
        }
        return require(Files.isExecutable(launcher) ? Optional.of(launcher) : Optional.empty(), "Chromium");
    }

    /** node 20+ (what playwright-core asks for). */
    static String node() {
        boolean recent = false;
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            recent = p.waitFor(30, TimeUnit.SECONDS) && v.matches("v(\\d+)\\..*")
                    && Integer.parseInt(v.substring(1, v.indexOf('.'))) >= 20;
        } catch (IOException | InterruptedException | NumberFormatException e) {
            recent = false;
        }
        return require(recent ? Optional.of("node") : Optional.empty(), "node 20+").toString();
    }

    /**
     * The browser scenarios ({@code console/src/test/browser}) copied into {@code target/console-browser}, with
     * playwright-core installed there by {@code npm ci} from the committed lock file (once; npm's cache serves it
     * again on later builds).
     */
    static Path scenarios(Path home) throws IOException {
        Path source = home.resolve("console/src/test/browser");
        Path dir = Path.of("target", "console-browser").toAbsolutePath();
        Files.createDirectories(dir);
        for (String name : List.of("package.json", "package-lock.json", "console.test.mjs")) {
            Files.copy(source.resolve(name), dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isDirectory(dir.resolve("node_modules/playwright-core"))) {
            run(dir, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts");
        }
        return require(Files.isDirectory(dir.resolve("node_modules/playwright-core")) ? Optional.of(dir) : Optional.empty(),
                "playwright-core (npm ci in " + dir + ")");
    }

    private static <T> T require(Optional<T> tool, String what) {
        if (tool.isEmpty()) {
            String why = what + " is missing and could not be installed";
            if (CI) {
                fail(why + "; under CI=true this fails rather than skips");
            }
            Assumptions.abort(why + ": skipped (CI fails instead)");
        }
        return tool.get();
    }

    /** Runs a command, its output into the test log; its exit code (-1 if it cannot run or overruns 10 min). */
    private static int run(Path dir, String... command) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(new File("target/console-browser-tools.log").getAbsoluteFile()));
            builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = builder.start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
