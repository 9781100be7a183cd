package fr.osfria.local.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One {@code ./osfria COMMAND …} (the packaged launcher) on a platform's data directory, run to its end. */
public final class OsfriaCommand {

    public record Result(int code, String output) {
    }

    private OsfriaCommand() {
    }

    public static Result run(SharedPlatform platform, int seconds, String... args) throws IOException, InterruptedException {
        return run(platform.dataDir(), platform.env(), seconds, args);
    }

    public static Result run(Path data, Map<String, String> env, int seconds, String... args)
            throws IOException, InterruptedException {
        Path home = Path.of("").toAbsolutePath().getParent();
        return run(data, env, seconds, List.of("-jar", home.resolve("platform-local/target/platform-local.jar").toString()), args);
    }

    /**
     * The same command from this test JVM's class path (the launcher's classes as compiled, for unit-level tests that
     * run before the jar is packaged).
     */
    public static Result fromClasses(Path data, Map<String, String> env, int seconds, String... args)
            throws IOException, InterruptedException {
        // a short-lived command: the C1 compiler and a serial collector cost it less CPU than the defaults
        return run(data, env, seconds, List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), "fr.osfria.local.Osfria"), args);
    }

    private static Result run(Path data, Map<String, String> env, int seconds, List<String> launcher, String... args)
            throws IOException, InterruptedException {
        Path home = Path.of("").toAbsolutePath().getParent();
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Dosfria.home=" + home));
        command.addAll(launcher);
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        builder.environment().put("OSFRIA_DATA", data.toString());
        Process process = builder.start();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try {
                process.getInputStream().transferTo(out);
            } catch (IOException e) {
                // the command ended
            }
        }, "osfria-command");
        reader.setDaemon(true);
        reader.start();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly); // an up that should have refused
            process.destroyForcibly();
            throw new AssertionError("osfria " + String.join(" ", args) + " still runs after " + seconds + " s:\n" + out);
        }
        reader.join(2000);
        synchronized (out) {
            return new Result(process.exitValue(), out.toString(StandardCharsets.UTF_8));
        }
    }
}
