package fr.osfria.local.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the benchmarks on the real local platform share: starting the packaged launcher, its output, the load. */
final class BenchPlatform {

    private BenchPlatform() {
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"?([^\",}]*)").matcher(json);
        return m.find() ? m.group(1) : "";
    }

    static Process start(Map<String, String> env) throws IOException {
        Path home = Path.of("").toAbsolutePath().getParent();
        // Ctrl-C stops it at the end: SIGINT as in a terminal, whatever the build's shell left
        ProcessBuilder builder = new ProcessBuilder(fr.osfria.local.e2e.LaunchedPlatform.inForeground(List.of(
                ProcessHandle.current().info().command().orElse("java"), "-Dosfria.home=" + home, "-jar",
                home.resolve("platform-local/target/platform-local.jar").toString(), "up")))
                .redirectErrorStream(true);
        builder.environment().putAll(env);
        return builder.start();
    }

    static List<String> follow(Process process) {
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the platform stopped
            }
        });
        reader.setDaemon(true);
        reader.start();
        return lines;
    }
}
