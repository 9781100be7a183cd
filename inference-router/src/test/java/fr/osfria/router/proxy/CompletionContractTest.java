package fr.osfria.router.proxy;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static fr.osfria.router.SimulatedBackends.MISTRAL;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.router.RouterClient;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(SimulatedBackends.class)
class CompletionContractTest {

    /** What this class made the service export, for the k8s module's check of alert rules and dashboards. */
    @org.junit.jupiter.api.AfterAll
    static void saveExportedMetrics() {
        fr.osfria.testing.ExportedMetrics.save(CompletionContractTest.class);
    }


    @BeforeEach
    void backendsUp() {
        SimulatedBackends.resetAll();
        await().atMost(Duration.ofSeconds(10)).until(() -> RouterClient.post("/v1/chat/completions", TestKeys.READER,
                RouterClient.chat(MISTRAL, 1, false)).statusCode() == 200);
    }

    @Test
    void wholeChatAndTextCompletionsComeBackInOpenAiShape() throws Exception {
        HttpResponse<String> chat = RouterClient.post("/v1/chat/completions", TestKeys.READER,
                RouterClient.chat(LLAMA, 5, false));
        assertEquals(200, chat.statusCode(), chat.body());
        JsonNode body = EventJson.MAPPER.readTree(chat.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals(LLAMA, body.get("model").asText());
        assertEquals("tok1 tok2 tok3 tok4 tok5", body.at("/choices/0/message/content").asText());
        assertEquals(5, body.at("/usage/completion_tokens").asInt());
        assertTrue(chat.headers().firstValue("x-request-id").isPresent());

        HttpResponse<String> text = RouterClient.post("/v1/completions", TestKeys.READER,
                "{\"model\":\"" + LLAMA + "\",\"prompt\":\"Once upon\",\"max_tokens\":3}");
        assertEquals(200, text.statusCode(), text.body());
        JsonNode t = EventJson.MAPPER.readTree(text.body());
        assertEquals("text_completion", t.get("object").asText());
        assertEquals("tok1 tok2 tok3", t.at("/choices/0/text").asText());
        assertEquals(2, t.at("/usage/prompt_tokens").asInt());
    }

    @Test
    void streamsRelayEveryChunkAndEndWithDone() throws Exception {
        RouterClient.Stream s = RouterClient.stream("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 6, true));
        assertEquals(200, s.status());
        assertTrue(s.endsWithDone(), s.raw());
        StringBuilder content = new StringBuilder();
        for (String d : s.data().subList(0, s.data().size() - 1)) {
            JsonNode chunk = EventJson.MAPPER.readTree(d);
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            content.append(chunk.at("/choices/0/delta/content").asText());
        }
        assertEquals("tok1 tok2 tok3 tok4 tok5 tok6", content.toString());
        // the router asked the backend for usage to count it, but this client did not: no usage chunk for it
        assertFalse(s.raw().contains("\"usage\""), s.raw());
        assertTrue(SimulatedBackends.first.lastRequest() == null
                || SimulatedBackends.first.lastRequest().getJsonObject("stream_options") == null
                || SimulatedBackends.first.lastRequest().getJsonObject("stream_options").getBoolean("include_usage")
                || SimulatedBackends.second.lastRequest().getJsonObject("stream_options").getBoolean("include_usage"));

        RouterClient.Stream withUsage = RouterClient.stream("/v1/completions", TestKeys.READER,
                "{\"model\":\"" + MISTRAL + "\",\"prompt\":\"a b c d\",\"max_tokens\":4,\"stream\":true,"
                        + "\"stream_options\":{\"include_usage\":true}}");
        assertTrue(withUsage.endsWithDone());
        JsonNode usage = EventJson.MAPPER.readTree(withUsage.data().get(withUsage.data().size() - 2)).get("usage");
        assertEquals(4, usage.get("prompt_tokens").asInt());
        assertEquals(4, usage.get("completion_tokens").asInt());
    }

    @Test
    void streamedTokensReachTheClientAsTheyAreGenerated() throws Exception {
        SimulatedBackends.second.tokenDelay(200);
        long start = System.nanoTime();
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(RouterClient.uri("/v1/chat/completions"))
                .header("authorization", "Bearer " + TestKeys.READER).header("content-type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(RouterClient.chat(MISTRAL, 5, true))).build();
        try (InputStream in = java.net.http.HttpClient.newHttpClient()
                .send(request, HttpResponse.BodyHandlers.ofInputStream()).body()) {
            byte[] first = new byte[16];
            assertTrue(in.read(first) > 0);
            long firstMillis = (System.nanoTime() - start) / 1_000_000;
            String rest = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            long allMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(rest.endsWith("data: [DONE]\n\n"));
            // 5 tokens 200 ms apart: the first arrives long before the last, so nothing is buffered to the end
            assertTrue(firstMillis < allMillis - 500, "first byte " + firstMillis + " ms, end " + allMillis + " ms");
        }
    }

    @Test
    void unknownFieldsReachTheBackendUnchanged() throws Exception {
        String body = """
                {"model":"%s","messages":[{"role":"user","content":"hi"}],"max_tokens":2,
                 "guided_json":{"type":"object"},"repetition_penalty":1.1,"seed":7,"top_k":40,
                 "chat_template_kwargs":{"enable_thinking":false},"user":"alice"}""".formatted(MISTRAL);
        assertEquals(200, RouterClient.post("/v1/chat/completions", TestKeys.READER, body).statusCode());
        JsonNode sent = EventJson.MAPPER.readTree(body);
        JsonNode seen = EventJson.MAPPER.readTree(SimulatedBackends.second.lastRequest().encode());
        assertEquals(sent, seen);
    }

    @Test
    void badRequestsGetClearErrorsInOpenAiShape() throws Exception {
        RouterClient.assertError(RouterClient.post("/v1/chat/completions", TestKeys.READER, "{not json"), 400, "invalid_request");
        RouterClient.assertError(RouterClient.post("/v1/chat/completions", TestKeys.READER, ""), 400, "invalid_request");
        RouterClient.assertError(RouterClient.post("/v1/chat/completions", TestKeys.READER, "[1,2]"), 400, "invalid_request");
        RouterClient.assertError(RouterClient.post("/v1/chat/completions", TestKeys.READER,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), 400, "invalid_request");
        RouterClient.assertError(RouterClient.post("/v1/chat/completions", TestKeys.READER,
                "{\"model\":\"" + LLAMA + "\",\"stream\":\"yes\",\"messages\":[]}"), 400, "invalid_request");
        HttpResponse<String> unknown = RouterClient.post("/v1/chat/completions", TestKeys.READER,
                RouterClient.chat("gpt-5", 2, false));
        RouterClient.assertError(unknown, 404, "model_not_found");
        assertEquals("not_found_error", EventJson.MAPPER.readTree(unknown.body()).at("/error/type").asText());
        RouterClient.assertError(RouterClient.post("/v1/chat/completions", null, RouterClient.chat(LLAMA, 2, false)), 401, "invalid_api_key");
        RouterClient.assertError(RouterClient.post("/v1/chat/completions", TestKeys.REVOKED, RouterClient.chat(LLAMA, 2, false)), 401,
                "invalid_api_key");
        String huge = "{\"model\":\"" + LLAMA + "\",\"prompt\":\"" + "x".repeat(10 * 1024 * 1024) + "\"}";
        RouterClient.assertError(RouterClient.post("/v1/completions", TestKeys.READER, huge), 413, "request_too_large");
        // a backend's own 4xx (here: an option the backend rejects) is relayed as it is
        HttpResponse<String> rejected = RouterClient.post("/v1/completions", TestKeys.READER,
                "{\"model\":\"" + LLAMA + "\",\"prompt\":\"x\",\"n\":3}");
        assertEquals(400, rejected.statusCode());
        assertNotNull(EventJson.MAPPER.readTree(rejected.body()).at("/error/message").asText(null));
        // and after all that, the router still answers
        assertEquals(200, RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 1, false)).statusCode());
    }

    @Test
    void aClientLeavingMidStreamCancelsTheBackendRequestAndFreesTheSlot() throws Exception {
        SimulatedBackends.second.tokenDelay(100);
        int before = SimulatedBackends.second.cancelled();
        try (Socket socket = new Socket("localhost", RouterClient.uri("/").getPort())) {
            String body = RouterClient.chat(MISTRAL, 200, true);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TestKeys.READER
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            String seen = "";
            byte[] buf = new byte[4096];
            while (!seen.contains("tok3")) {
                int n = in.read(buf);
                assertTrue(n > 0);
                seen += new String(buf, 0, n, StandardCharsets.UTF_8);
            }
        } // the client hangs up after three tokens of two hundred
        await().atMost(Duration.ofSeconds(5)).until(() -> SimulatedBackends.second.cancelled() == before + 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> SimulatedBackends.second.running() == 0);
        HttpResponse<String> health = RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(MISTRAL, 1, false));
        assertEquals(200, health.statusCode());
        // every slot counts, the batch lane's too: a batch request left over by another test in this application
        // shows here, and the message says on which backend and whether batch work is still waiting
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(0, inFlight(), RouterClient.health()
                .get("backends") + "\n" + RouterClient.metrics().lines()
                .filter(l -> l.startsWith("osfria_router_batch_waiting")).collect(java.util.stream.Collectors.joining())));
    }

    @Test
    void everyWayOfLeavingAStreamFreesItsSlotOnce() throws Exception {
        // the client's close raced against each step of the stream: before the first token, mid-way, and on the
        // backend's last token (close and end of stream in the same instant); a slot freed twice shows as -1
        for (int i = 0; i < 24; i++) {
            SimulatedBackends.second.tokenDelay(i % 3 == 0 ? 0 : i % 3 == 1 ? 2 : 20);
            int tokens = i % 2 == 0 ? 1 + i % 4 : 200;
            int leaveAfter = i % 4 == 3 ? 0 : 1 + i % 4;
            try (Socket socket = new Socket("localhost", RouterClient.uri("/").getPort())) {
                String body = RouterClient.chat(MISTRAL, tokens, true);
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TestKeys.READER
                        + "\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                out.flush();
                InputStream in = socket.getInputStream();
                String seen = "";
                byte[] buf = new byte[4096];
                while (leaveAfter > 0 && !seen.contains("tok" + Math.min(leaveAfter, tokens))) {
                    int n = in.read(buf);
                    assertTrue(n > 0, seen);
                    seen += new String(buf, 0, n, StandardCharsets.UTF_8);
                }
            }
            int round = i;
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(0, inFlight(), "round " + round + ": "
                    + RouterClient.health().get("backends")));
        }
        assertEquals(200, RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(MISTRAL, 1, false))
                .statusCode());
    }

    @Test
    void slowLorisClientsDoNotStopOthersFromBeingServed() throws Exception {
        List<Socket> loris = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                Socket s = new Socket("localhost", RouterClient.uri("/").getPort());
                s.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{\"mo"
                        .getBytes(StandardCharsets.US_ASCII));
                loris.add(s);
            }
            long start = System.nanoTime();
            HttpResponse<String> r = RouterClient.post("/v1/chat/completions", TestKeys.READER, RouterClient.chat(LLAMA, 2, false));
            assertEquals(200, r.statusCode());
            assertTrue((System.nanoTime() - start) / 1_000_000 < 2000);
        } finally {
            for (Socket s : loris) {
                s.close();
            }
        }
    }

    @Test
    void metricsCarryTheDocumentedNamesAndTypes() throws Exception {
        SimulatedBackends.second.tokenDelay(2);
        assertTrue(RouterClient.stream("/v1/chat/completions", TestKeys.READER, RouterClient.chat(MISTRAL, 8, true)).endsWithDone());
        String metrics = RouterClient.metrics();
        for (String histogram : List.of("osfria_router_request_duration_seconds", "osfria_router_time_to_first_token_seconds",
                "osfria_router_inter_token_latency_seconds", "osfria_router_generation_tokens_per_second")) {
            assertTrue(metrics.contains("# TYPE " + histogram + " histogram"), histogram);
            assertTrue(metrics.contains(histogram + "_bucket{"), histogram);
        }
        for (String counter : List.of("osfria_router_requests_total", "osfria_router_tokens_total")) {
            assertTrue(metrics.contains("# TYPE " + counter + " counter"), counter);
        }
        for (String gauge : List.of("osfria_router_queue_depth", "osfria_router_backend_in_flight", "osfria_router_backend_healthy",
                "osfria_router_backend_ejected", "osfria_router_backend_queue_depth", "osfria_router_backend_running",
                "osfria_router_backend_kv_cache_usage")) {
            assertTrue(metrics.contains("# TYPE " + gauge + " gauge"), gauge);
        }
        assertTrue(RouterClient.metricValue(metrics, "osfria_router_requests_total", "outcome=\"ok\"") >= 1, metrics);
        assertTrue(RouterClient.metricValue(metrics, "osfria_router_tokens_total", "kind=\"completion\",model=\"" + MISTRAL + "\"") >= 8, metrics);
        // the same registry is on the Quarkus path every service uses
        String quarkus = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                RouterClient.uri("/q/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(quarkus.contains("osfria_router_requests_total"), quarkus);
    }

    private static int inFlight() throws Exception {
        int total = 0;
        for (JsonNode b : RouterClient.health().get("backends")) {
            total += b.get("in_flight").asInt();
        }
        return total;
    }

}
