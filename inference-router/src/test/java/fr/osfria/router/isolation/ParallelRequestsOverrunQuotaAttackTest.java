package fr.osfria.router.isolation;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.router.RouterClient;
import fr.osfria.router.LenientBackends;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The attack: a key with a nearly spent daily quota sends 200 requests at once. Charged only after they end, they
 * would all be let in against the same remainder. Each costs 3 prompt tokens (the simulator counts words) plus
 * {@code max_tokens}.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(LenientBackends.class)
class ParallelRequestsOverrunQuotaAttackTest {

    private static final long QUOTA = 1000;
    private static final int MAX_TOKENS = 20;
    private static final int COST = 3 + MAX_TOKENS;

    @BeforeEach
    void backendsUp() {
        SimulatedBackends.resetAll();
    }

    @Test
    void twoHundredParallelRequestsOverrunADailyQuotaByAtMostOneRequestsMaxTokens() throws Exception {
        String key = TestKeys.metered("parallel-" + UUID.randomUUID().toString().substring(0, 8), QUOTA, null, null, null);
        await().atMost(Duration.ofSeconds(30)).until(() -> RouterClient.post("/v1/chat/completions", key, "{}").statusCode() == 400);

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI uri = RouterClient.uri("/v1/chat/completions");
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header("content-type", "application/json").header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(RouterClient.chat(LLAMA, MAX_TOKENS, false))).build();
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            sent.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0;
        int timedOut = 0;
        for (CompletableFuture<HttpResponse<String>> f : sent) {
            HttpResponse<String> r = f.get();
            if (r.statusCode() == 200) {
                ok++;
            } else if (r.statusCode() == 504) {
                timedOut++; // the loaded build machine: counted as nothing used, its reservation given back
            } else {
                RouterClient.assertError(r, 429, "quota_exceeded");
                assertTrue(r.headers().firstValue("retry-after").isPresent());
            }
        }
        assertTrue(ok * COST <= QUOTA + MAX_TOKENS, ok + " requests of " + COST + " tokens let in against " + QUOTA);
        assertTrue(timedOut < 10, timedOut + " time-outs");

        // what the refused requests held is given back: the key can use what is left of its quota, and no more
        for (int i = 0; i < 100; i++) {
            HttpResponse<String> r = RouterClient.post("/v1/chat/completions", key, RouterClient.chat(LLAMA, MAX_TOKENS, false));
            if (r.statusCode() != 200) {
                RouterClient.assertError(r, 429, "quota_exceeded");
                assertTrue(Long.parseLong(r.headers().firstValue("retry-after").orElseThrow()) > 1, "refused for good");
                break;
            }
            ok++;
        }
        long used = (long) ok * COST;
        assertTrue(used <= QUOTA + MAX_TOKENS, used + " tokens used of " + QUOTA);
        assertTrue(used >= QUOTA - 2 * COST - 40, "only " + used + " tokens of " + QUOTA + " could be used");
    }
}
