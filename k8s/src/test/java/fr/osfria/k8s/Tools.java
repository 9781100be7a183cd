package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The command-line tools these tests drive. kubectl must be on the machine; promtool and shellcheck come from
 * Debian's packages, unpacked under {@code target/tools} by the build itself when the machine lacks them. Missing
 * tools skip a test on a workstation and fail it under {@code CI=true}, so CI never passes by skipping.
 */
public final class Tools {

    public record Result(int exit, String out, String err) {
    }

    static Optional<Path> onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The tool from PATH, else from the Debian package unpacked under target/tools (fetched once). */
    static Optional<Path> fromDebian(String name, String debianPackage, String pathInPackage) {
        Optional<Path> found = onPath(name);
        if (found.isPresent()) {
            return found;
        }
        Path dir = Path.of("target", "tools", debianPackage).toAbsolutePath();
        Path tool = dir.resolve(pathInPackage);
        if (!Files.isExecutable(tool)) {
            try {
                Files.createDirectories(dir);
                Result download = run(dir, Map.of(), "apt-get", "download", debianPackage);
                if (download.exit() != 0) {
                    // a fresh machine may have no package lists yet
                    run(dir, Map.of(), "apt-get", "update", "-qq");
                    download = run(dir, Map.of(), "apt-get", "download", debianPackage);
                }
                if (download.exit() != 0) {
                    return Optional.empty();
                }
                try (var debs = Files.list(dir)) {
                    for (Path deb : debs.filter(p -> p.toString().endsWith(".deb")).toList()) {
                        run(dir, Map.of(), "dpkg", "-x", deb.toString(), dir.toString());
                    }
                }
            } catch (IOException | RuntimeException e) {
                return Optional.empty();
            }
        }
        return Files.isExecutable(tool) ? Optional.of(tool) : Optional.empty();
    }

    static Path require(Optional<Path> tool, String what) {
        if (tool.isEmpty()) {
            if ("true".equals(System.getenv("CI"))) {
                fail(what + " is missing and could not be installed; under CI=true this fails rather than skips");
            }
            Assumptions.abort(what + " is missing on this machine: skipped (CI fails instead)");
        }
        return tool.get();
    }

    static Path kubectl() {
        return require(onPath("kubectl"), "kubectl (with its built-in kustomize)");
    }

    static Result run(Path dir, Map<String, String> env, String... command) {
        return run(dir, env, List.of(command));
    }

    static Result run(Path dir, Map<String, String> env, List<String> command) {
        try {
            Path out = Files.createTempFile("tool", ".out");
            Path err = Files.createTempFile("tool", ".err");
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).directory(dir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail(command + " did not finish in 5 minutes");
            }
            Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Tools() {
    }
}
