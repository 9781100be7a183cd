package fr.osfria.router;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.ConfigProvider;

/** Calls the router under test the way an HTTP client would, reading streams line by line as they arrive. */
public final class RouterClient {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    public static URI uri(String path) {
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
        return URI.create("http://localhost:" + port + path);
    }

    public static HttpResponse<String> post(String path, String key, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (key != null) {
            b.header("authorization", "Bearer " + key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A streamed answer: status, and the SSE {@code data:} payloads in order. */
    public record Stream(int status, List<String> data, String raw) {
        public boolean endsWithDone() {
            return !data.isEmpty() && data.get(data.size() - 1).equals("[DONE]");
        }
    }

    public static Stream stream(String path, String key, String json) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                .header("content-type", "application/json").header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
        HttpResponse<java.io.InputStream> response = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
        List<String> data = new ArrayList<>();
        StringBuilder raw = new StringBuilder();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                raw.append(line).append('\n');
                if (line.startsWith("data: ")) {
                    data.add(line.substring(6));
                }
            }
        }
        return new Stream(response.statusCode(), data, raw.toString());
    }

    /** The router's {@code /metrics} text. */
    public static String metrics() throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The value of the first sample of {@code name} whose labels contain {@code label}; -1 when there is none. */
    public static double metricValue(String metrics, String name, String label) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + "{") && line.contains(label)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return -1;
    }

    /** The router's backend detail ({@code /health/backends}, with an admin key), whatever its status. */
    public static com.fasterxml.jackson.databind.JsonNode health() throws Exception {
        return fr.osfria.events.EventJson.MAPPER.readTree(HTTP.send(HttpRequest.newBuilder(uri("/health/backends"))
                .header("authorization", "Bearer " + fr.osfria.testing.TestKeys.ADMIN).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    public static String chat(String model, int maxTokens, boolean stream) {
        return """
                {"model":"%s","messages":[{"role":"user","content":"one two three"}],"max_tokens":%d,"stream":%s}"""
                .formatted(model, maxTokens, stream);
    }

    /** An error in OpenAI's shape with this status and code. */
    public static void assertError(HttpResponse<String> response, int status, String code) throws Exception {
        org.junit.jupiter.api.Assertions.assertEquals(status, response.statusCode(), response.body());
        com.fasterxml.jackson.databind.JsonNode error = fr.osfria.events.EventJson.MAPPER.readTree(response.body()).get("error");
        org.junit.jupiter.api.Assertions.assertNotNull(error, response.body());
        org.junit.jupiter.api.Assertions.assertEquals(code, error.get("code").asText(), response.body());
        org.junit.jupiter.api.Assertions.assertFalse(error.get("message").asText().isBlank());
        org.junit.jupiter.api.Assertions.assertFalse(error.get("type").asText().isBlank());
    }

    private RouterClient() {
    }
}
