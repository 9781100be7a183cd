package fr.osfria.router.balance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.router.RouterClient;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.OpenAiSimulator;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The affinity strategy, over one backend from static configuration and one found by DNS ({@code localhost}
 * standing in for a headless service's name).
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(AffinityAndDiscoveryTest.Backends.class)
class AffinityAndDiscoveryTest {

    static final String MODEL = "qwen/Qwen2.5-7B-Instruct";

    public static class Backends implements QuarkusTestResourceLifecycleManager {
        static OpenAiSimulator configured;
        static OpenAiSimulator discovered;

        @Override
        public Map<String, String> start() {
            configured = OpenAiSimulator.start(MODEL);
            discovered = OpenAiSimulator.start(MODEL);
            return Map.of("osfria.router.backends", configured.baseUrl(),
                    "osfria.router.discovery.dns-name", "localhost",
                    "osfria.router.discovery.port", String.valueOf(URI.create(discovered.baseUrl()).getPort()),
                    "osfria.router.discovery.interval", "500ms",
                    "osfria.router.probe-interval", "200ms",
                    "osfria.router.balancing.strategy", "affinity");
        }

        @Override
        public void stop() {
            configured.close();
            discovered.close();
        }
    }

    private static HttpResponse<String> chat(String user, String session) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(RouterClient.uri("/v1/chat/completions"))
                .header("authorization", "Bearer " + TestKeys.READER).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"model":"%s","messages":[{"role":"user","content":"hello"}],"max_tokens":2%s}"""
                        .formatted(MODEL, user == null ? "" : ",\"user\":\"" + user + "\"")));
        if (session != null) {
            b.header("x-session-id", session);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void bothUp() {
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            return RouterClient.health().path("healthy_backends").asLong() == 2;
        });
    }

    @Test
    void aBackendFoundByDnsTakesTraffic() throws Exception {
        bothUp();
        int before = Backends.discovered.served();
        for (int i = 0; i < 20; i++) {
            assertEquals(200, chat("user-" + i, null).statusCode());
        }
        assertTrue(Backends.discovered.served() > before, "the DNS-discovered backend served nothing");
    }

    @Test
    void theSameUserOrSessionStaysOnOneBackend() throws Exception {
        bothUp();
        for (String[] who : new String[][] {{"alice", null}, {"bob", null}, {null, "session-42"}, {"alice", "session-7"}}) {
            int a = Backends.configured.served();
            int b = Backends.discovered.served();
            for (int i = 0; i < 10; i++) {
                assertEquals(200, chat(who[0], who[1]).statusCode());
            }
            int onA = Backends.configured.served() - a;
            int onB = Backends.discovered.served() - b;
            assertTrue(onA == 10 && onB == 0 || onA == 0 && onB == 10, "split " + onA + "/" + onB);
        }
    }

    @Test
    void aHotUserSpillsOverInsteadOfOverloadingItsBackend() throws Exception {
        bothUp();
        Backends.configured.tokenDelay(50);
        Backends.discovered.tokenDelay(50);
        try {
            int a = Backends.configured.served();
            int b = Backends.discovered.served();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                calls.add(http.sendAsync(HttpRequest.newBuilder(RouterClient.uri("/v1/chat/completions"))
                        .header("authorization", "Bearer " + TestKeys.READER).header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("""
                                {"model":"%s","messages":[{"role":"user","content":"hi"}],"max_tokens":30,"stream":true,
                                 "user":"hot"}""".formatted(MODEL))).build(), HttpResponse.BodyHandlers.ofString()));
            }
            calls.forEach(c -> assertEquals(200, c.join().statusCode()));
            int onA = Backends.configured.served() - a;
            int onB = Backends.discovered.served() - b;
            assertTrue(Math.min(onA, onB) >= 2, "the hot user's requests spilled over: " + onA + "/" + onB);
            assertTrue(Math.max(onA, onB) > Math.min(onA, onB), "and most stayed home: " + onA + "/" + onB);
        } finally {
            Backends.configured.reset();
            Backends.discovered.reset();
        }
    }
}
