package fr.osfria.local.sdk;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/** Finds a tool an SDK's tests need: missing or too old, the test is skipped, or fails under {@code CI=true}. */
final class Toolchain {

    private Toolchain() {
    }

    /**
     * The tool's command ({@code versionCommand}'s first word) if it prints a version ({@code version}: major and minor
     * as its groups 1 and 2) of at least {@code major.minor}; otherwise a skip, or a failure when {@code ci}.
     */
    static String require(String name, List<String> versionCommand, Pattern version, int major, int minor, boolean ci) {
        String found;
        try {
            Process p = new ProcessBuilder(versionCommand).redirectErrorStream(true).start();
            found = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                found = null;
            }
        } catch (IOException | InterruptedException e) {
            found = null;
        }
        Matcher m = found == null ? null : version.matcher(found);
        boolean recent = m != null && m.find() && (Integer.parseInt(m.group(1)) > major
                || Integer.parseInt(m.group(1)) == major && Integer.parseInt(m.group(2)) >= minor);
        if (!recent) {
            String why = name + " " + major + "." + minor + "+ is needed to test its SDK; found "
                    + (found == null ? "none that runs on the PATH" : found);
            if (ci) {
                fail(why + " (under CI=true this fails rather than skips)");
            }
            Assumptions.abort(why + ": skipped (CI fails instead)");
        }
        return versionCommand.get(0);
    }
}
