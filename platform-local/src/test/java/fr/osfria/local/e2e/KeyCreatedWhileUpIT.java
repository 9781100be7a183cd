package fr.osfria.local.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * On the shared platform (it runs before the chaos suite, which stops it: see {@link SharedPlatform}): a key created
 * with {@code ./osfria keys create} while the platform runs is accepted by every service within seconds, with the
 * rights it was given, the documentation's model answers through the entry port, and the key reads its own usage.
 */
class KeyCreatedWhileUpIT {

    @Test
    void aKeyCreatedWhileUpWorksWithItsRightsAndTheDocumentedModelAnswers() throws Exception {
        SharedPlatform platform = SharedPlatform.get();
        String key = platform.createKey("reader-" + System.nanoTime(), "--read", "guides");
        PlatformApi api = new PlatformApi(platform.url(), key);

        HttpResponse<String> models = api.get("/v1/models");
        assertEquals(200, models.statusCode(), models.body());
        assertTrue(models.body().contains("\"id\":\"deepseek-r2-78b-int4\""), models.body());
        HttpResponse<String> chat = api.post("/v1/chat/completions", new JsonObject().put("model", "deepseek-r2-78b-int4")
                .put("max_tokens", 4).put("messages", List.of(Map.of("role", "user", "content", "Bonjour"))).encode());
        assertEquals(200, chat.statusCode(), chat.body());
        assertEquals("deepseek-r2-78b-int4", new JsonObject(chat.body()).getString("model"), chat.body());

        // its usage through the entry port, under the documented base URL: its own only
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> {
            HttpResponse<String> usage = api.get("/api/v1/usage");
            return usage.statusCode() == 200
                    && new JsonObject(usage.body()).getJsonArray("data").getJsonObject(0).getLong("total_requests") == 1;
        });
        assertEquals(404, api.get("/v1/usage?key=admin").statusCode(), "another key's usage");

        assertEquals(200, api.get("/v1/documents?collection=guides").statusCode(), "its read right");
        assertEquals(404, api.get("/v1/documents?collection=finance").statusCode(), "no right on another collection");
    }
}
