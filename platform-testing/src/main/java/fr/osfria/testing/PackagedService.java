package fr.osfria.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service's packaged application ({@code target/quarkus-app}) run as its own process with the given system
 * properties and environment, for tests that restart a service with another configuration (a KEK rotation).
 */
public final class PackagedService implements AutoCloseable {

    /**
     * A test's service runs for seconds, not hours: the C2 compiler and the parallel collector's threads only compete
     * with the boot for the machine's cores (CI has two).
     */
    public static final List<String> QUICK_START = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Process process;
    private final Path log;
    private final int port;

    private PackagedService(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** Starts it and waits until {@code /q/health/ready} answers 200 (at most {@code timeout}). */
    public static PackagedService start(Map<String, String> properties, Map<String, String> env, Duration timeout)
            throws IOException, InterruptedException {
        int port = Ports.free();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-Dquarkus.http.port=" + port, "-Dquarkus.log.level=WARN"));
        command.addAll(1, QUICK_START);
        // a stop waits for the records still in processing up to the commit interval (Kafka's default 5 s): records
        // whose database step the stop cut short never finish, so every stop of a test's service took ~5 s
        command.add("-Dkafka.auto.commit.interval.ms=1000");
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("-jar", Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath().toString()));
        Path log = Files.createTempFile("osfria-service", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        PackagedService service = new PackagedService(pb.start(), log, port);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (service.status("/q/health/ready") != 200) {
            if (!service.process.isAlive() || System.nanoTime() > deadline) {
                String output = Files.readString(log);
                service.close();
                throw new IllegalStateException("the service did not become ready:\n"
                        + output.substring(Math.max(0, output.length() - 4000)));
            }
            Thread.sleep(200);
        }
        return service;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    private int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Stops it (SIGTERM, then SIGKILL after 30 s). */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
