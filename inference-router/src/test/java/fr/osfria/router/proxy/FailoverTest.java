package fr.osfria.router.proxy;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static fr.osfria.router.SimulatedBackends.MISTRAL;
import static fr.osfria.router.SimulatedBackends.first;
import static fr.osfria.router.SimulatedBackends.second;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.router.RouterClient;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each fault of a vLLM server, with the router's time-outs set to one second (see {@link SimulatedBackends}). */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(SimulatedBackends.class)
class FailoverTest {

    /** What this class made the service export, for the k8s module's check of alert rules and dashboards. */
    @org.junit.jupiter.api.AfterAll
    static void saveExportedMetrics() {
        fr.osfria.testing.ExportedMetrics.save(FailoverTest.class);
    }


    @BeforeEach
    @AfterEach
    void backendsUp() {
        SimulatedBackends.resetAll();
        await().atMost(Duration.ofSeconds(10)).until(() -> RouterClient.health().get("healthy_backends").asLong() == 2);
        // an ejection left by a test ends within the breaker's 1 s
        await().atMost(Duration.ofSeconds(5)).until(() -> ejected(first) == 0 && ejected(second) == 0);
    }

    @Test
    void aBackendRefusingConnectionsIsSkippedWithoutTheClientNoticing() throws Exception {
        first.stop();
        try {
            for (int i = 0; i < 10; i++) { // at once, before any probe has seen the backend die
                HttpResponse<String> r = RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 2, false));
                assertEquals(200, r.statusCode(), r.body());
            }
        } finally {
            first.restart();
        }
    }

    @Test
    void overloadedAnswersAreRetriedElsewhereAndTheBackendIsEjected() throws Exception {
        first.failCompletionsWith(503);
        int secondBefore = second.served();
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 2, false));
            assertEquals(200, r.statusCode(), r.body());
        }
        assertEquals(10, second.served() - secondBefore);
        String metrics = RouterClient.metrics();
        assertTrue(RouterClient.metricValue(metrics, "osfria_router_retries_total", "reason=\"backend_503\"") >= 1, metrics);
        assertTrue(RouterClient.metricValue(metrics, "osfria_router_ejections_total", backendLabel(first)) >= 1, metrics);
    }

    @Test
    void anEjectedBackendTakesTrafficAgainOnceItRecovers() throws Exception {
        first.failCompletionsWith(503);
        for (int i = 0; i < 6; i++) {
            RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 1, false));
        }
        assertEquals(1, ejected(first));
        first.reset();
        int before = first.served();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertEquals(200, RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 1, false)).statusCode());
            assertTrue(first.served() > before);
        });
    }

    @Test
    void aBackendThatNeverAnswersIsLeftAfterTheFirstTokenTimeout() throws Exception {
        first.hang(true);
        for (int i = 0; i < 4; i++) {
            long start = System.nanoTime();
            RouterClient.Stream s = RouterClient.stream("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 3, true));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(200, s.status());
            assertTrue(s.endsWithDone());
            assertTrue(millis < 2500, "answered in " + millis + " ms with a 1 s first-token timeout");
        }
    }

    @Test
    void whenEveryBackendHangsTheClientGetsA504WithinTheTimeouts() throws Exception {
        first.hang(true);
        second.hang(true);
        long start = System.nanoTime();
        HttpResponse<String> r = RouterClient.post("/v1/chat/completions", TestKeys.READER,
                RouterClient.chat(LLAMA, 3, true));
        long millis = (System.nanoTime() - start) / 1_000_000;
        RouterClient.assertError(r, 504, "backend_timeout");
        assertTrue(millis < 3500, "gave up after " + millis + " ms: two attempts of 1 s each");
    }

    @Test
    void aStreamThatBreaksMidwayEndsWithAnErrorEventNotAHang() throws Exception {
        second.dropStreamsAfter(3); // Mistral lives only on the second backend: no retry possible
        RouterClient.Stream s = RouterClient.stream("/v1/chat/completions", TestKeys.READER, RouterClient.chat(MISTRAL, 10, true));
        assertEquals(200, s.status());
        assertTrue(s.raw().contains("tok3"), s.raw());
        assertTrue(s.endsWithDone(), s.raw());
        JsonNode error = EventJson.MAPPER.readTree(s.data().get(s.data().size() - 2)).get("error");
        assertEquals("stream_interrupted", error.get("code").asText());
    }

    @Test
    void aStreamThatFallsSilentIsEndedAfterTheIdleTimeout() throws Exception {
        second.tokenDelay(3000);
        long start = System.nanoTime();
        RouterClient.Stream s = RouterClient.stream("/v1/chat/completions", TestKeys.READER, RouterClient.chat(MISTRAL, 5, true));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(s.raw().contains("tok1"), s.raw());
        assertTrue(s.raw().contains("stream_interrupted"), s.raw());
        assertTrue(millis < 2800, "ended after " + millis + " ms with a 1 s idle timeout");
    }

    @Test
    void withNoHealthyBackendTheAnswerIsAFast503() throws Exception {
        first.stop();
        second.stop();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> RouterClient.health().get("healthy_backends").asLong() == 0);
            long start = System.nanoTime();
            HttpResponse<String> r = RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 2, false));
            long millis = (System.nanoTime() - start) / 1_000_000;
            RouterClient.assertError(r, 503, "no_healthy_backend");
            assertTrue(millis < 500, millis + " ms");
            assertEquals(503, HttpClient.newHttpClient().send(HttpRequest.newBuilder(RouterClient.uri("/health")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode());
        } finally {
            first.restart();
            second.restart();
        }
    }

    @Test
    void loadGoesToTheBackendWithLessWorkInFlight() throws Exception {
        // the first backend decodes forty times slower: 2 s per answer, so that even when the machine is busy (tests of
        // another module beside these: -T2) and the fast one's answers take a few hundred ms, the slow one's share
        // stays well under a fifth when the router counts work in flight (spread evenly, each would get as many)
        first.tokenDelay(200);
        second.tokenDelay(5);
        int firstBefore = first.served();
        int secondBefore = second.served();
        long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            workers.add(CompletableFuture.runAsync(() -> {
                while (System.nanoTime() < end) {
                    try {
                        RouterClient.stream("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 10, true));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            }));
        }
        CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).join();
        int slow = first.served() - firstBefore;
        int fast = second.served() - secondBefore;
        assertTrue(fast > 4 * slow, "fast backend " + fast + " requests, slow backend " + slow);
        assertTrue(slow > 0, "the slow backend still takes a share");
    }

    @Test
    void aModelIsOnlySentToBackendsThatServeIt() throws Exception {
        int before = first.served();
        for (int i = 0; i < 10; i++) {
            assertEquals(200, RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(MISTRAL, 1, false)).statusCode());
        }
        assertEquals(before, first.served());
    }

    @Test
    void pastTheQueueRequestsAreRefusedWith503AndTheQueuedOnesAreServed() throws Exception {
        second.tokenDelay(50); // 20 tokens: one second per stream
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            calls.add(http.sendAsync(HttpRequest.newBuilder(RouterClient.uri("/v1/chat/completions"))
                    .header("authorization", "Bearer " + TestKeys.READER).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(RouterClient.chat(MISTRAL, 20, true))).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0;
        int refused = 0;
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.join();
            if (r.statusCode() == 200) {
                assertTrue(r.body().endsWith("data: [DONE]\n\n"));
                ok++;
            } else {
                RouterClient.assertError(r, 503, "overloaded");
                refused++;
            }
        }
        // 16 slots on the only backend serving Mistral, 8 places in the queue
        assertEquals(24, ok);
        assertEquals(16, refused);
    }

    private static String backendLabel(fr.osfria.testing.OpenAiSimulator sim) {
        return "backend=\"127.0.0.1:" + java.net.URI.create(sim.baseUrl()).getPort() + "\"";
    }

    private static double ejected(fr.osfria.testing.OpenAiSimulator sim) throws Exception {
        return RouterClient.metricValue(RouterClient.metrics(), "osfria_router_backend_ejected", backendLabel(sim));
    }
}
