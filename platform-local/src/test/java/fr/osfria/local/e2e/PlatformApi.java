package fr.osfria.local.e2e;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The public API through the entry port, as a client of the platform uses it, with an admin key. */
public final class PlatformApi {

    private final String url;
    private final String key;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    public PlatformApi(String url, String key) {
        this.url = url;
        this.key = key;
    }

    /** What the uploads of one scenario were answered: status (or "io") → count. */
    public static final class Answers {
        final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
        /** The bodies of the answers a careful client cannot act on (a 500 names its error id, for the logs). */
        public final java.util.List<String> unexpected = new java.util.concurrent.CopyOnWriteArrayList<>();

        public void add(String what) {
            counts.computeIfAbsent(what, k -> new AtomicInteger()).incrementAndGet();
        }

        public int get(String what) {
            AtomicInteger n = counts.get(what);
            return n == null ? 0 : n.get();
        }

        @Override
        public String toString() {
            return new java.util.TreeMap<>(counts).toString();
        }
    }

    /**
     * Uploads a text file as a careful client does: a connection error, 502, 503, 504 or a 429 with Retry-After is tried again (after
     * {@code Retry-After} when given); the same bytes again are safe, the platform answers the copy it already has.
     * Anything else (a 500) is an answer the platform should not give: recorded and returned as null.
     */
    public String upload(String collection, String name, String text, Answers answers, Duration patience) throws InterruptedException {
        String boundary = "chaos" + System.nanoTime();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\n" + collection + "\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\n"
                + "Content-Type: text/plain\r\n\r\n" + text + "\r\n--" + boundary + "--\r\n";
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/v1/documents")).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
        long deadline = System.nanoTime() + patience.toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r;
            try {
                r = http.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                answers.add("io");
                Thread.sleep(500);
                continue;
            }
            int status = r.statusCode();
            if (status == 202 || status == 200) {
                answers.add(String.valueOf(status));
                return new JsonObject(r.body()).getString("document_id");
            }
            boolean retryAfter = r.headers().firstValue("Retry-After").isPresent();
            answers.add(status + (retryAfter ? "+Retry-After" : ""));
            // 429: the key's uploads in progress at their cap (a careful client, as the SDKs, waits its Retry-After)
            if (status != 502 && status != 503 && status != 504 && !(status == 429 && retryAfter)) {
                System.out.println("CHAOS unexpected upload answer " + status + ": " + r.body());
                answers.unexpected.add(status + " " + r.body());
                return null;
            }
            long wait = r.headers().firstValue("Retry-After").map(s -> Long.parseLong(s.trim()) * 1000).orElse(500L);
            Thread.sleep(Math.min(wait, 5_000));
        }
        return null;
    }

    /** Every document of the collection (id → view), page by page. */
    public Map<String, JsonObject> documents(String collection) throws IOException, InterruptedException {
        Map<String, JsonObject> all = new java.util.LinkedHashMap<>();
        int offset = 0;
        while (true) {
            HttpResponse<String> r = get("/v1/documents?collection=" + collection + "&offset=" + offset + "&limit=500");
            if (r.statusCode() != 200) {
                throw new IOException("list " + collection + ": " + r.statusCode() + " " + r.body());
            }
            JsonArray page = new JsonObject(r.body()).getJsonArray("data");
            page.forEach(d -> all.put(((JsonObject) d).getString("document_id"), (JsonObject) d));
            if (page.size() < 500) {
                return all;
            }
            offset += page.size();
        }
    }

    /** The chunk ids the index returns for one document (a repeated id is a duplicate). */
    public List<String> indexedChunkIds(String collection, String documentId) throws IOException, InterruptedException {
        JsonObject query = new JsonObject().put("query", "chaos").put("collection", collection).put("mode", "dense")
                .put("top_k", 100).put("filters", new JsonObject().put("document_id", documentId));
        HttpResponse<String> r = post("/v1/search", query.encode());
        if (r.statusCode() != 200) {
            throw new IOException("search " + documentId + ": " + r.statusCode() + " " + r.body());
        }
        List<String> ids = new ArrayList<>();
        new JsonObject(r.body()).getJsonArray("results").forEach(h -> ids.add(((JsonObject) h).getString("chunk_id")));
        return ids;
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpClient client() {
        return http;
    }

    public String url() {
        return url;
    }

    public String key() {
        return key;
    }
}
