package fr.osfria.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Saves the running service's {@code /q/metrics} to {@code target/exported-metrics/<test class>.txt}, after the test
 * class has made it do its work. The k8s module checks every metric its alert rules and dashboards use against these files, so a
 * rule can never name a metric no service exports.
 */
public final class ExportedMetrics {

    public static void save(Class<?> testClass) {
        try {
            int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
            String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + port + "/q/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            Path dir = Files.createDirectories(Path.of("target", "exported-metrics"));
            Files.writeString(dir.resolve(testClass.getSimpleName() + ".txt"), body);
        } catch (Exception e) {
            throw new IllegalStateException("cannot save the exported metrics", e);
        }
    }

    private ExportedMetrics() {
    }
}
