package fr.osfria.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stands in for a GPU vLLM server, which cannot run here: an OpenAI-compatible HTTP server on loopback with the
 * model list, chat and text completions (whole or streamed as SSE, paced per token), vLLM-style {@code /metrics},
 * and faults: refused connections ({@link #stop()}), error statuses, a hang before the first byte, a stream cut off
 * mid-way, a slow decode. Answers are made of numbered tokens ("tok1 tok2 …"), never text a
 * test could mistake for a model's.
 */
public final class OpenAiSimulator implements AutoCloseable {

    private final Vertx vertx = Vertx.vertx();
    private final List<String> models = new CopyOnWriteArrayList<>();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger cancelled = new AtomicInteger();
    private volatile int failWithStatus;
    private volatile int failCompletionsWith;
    private volatile boolean hang;
    private volatile int dropAfterTokens;
    private volatile long tokenDelayMillis;
    private volatile long firstTokenDelayMillis;
    private volatile JsonObject lastRequest;
    private HttpServer server;
    /** Requests generating at once, as a GPU's batch size bounds them (0: no bound); the rest wait in {@link #queued}. */
    private int capacity;
    private int generating;
    private final java.util.ArrayDeque<Runnable> queued = new java.util.ArrayDeque<>();

    private OpenAiSimulator(List<String> models) {
        this.models.addAll(models);
    }

    /** Starts on a free loopback port, serving {@code models}. */
    public static OpenAiSimulator start(String... models) {
        OpenAiSimulator sim = new OpenAiSimulator(List.of(models));
        sim.listen(0);
        return sim;
    }

    private void listen(int port) {
        try {
            server = vertx.createHttpServer().requestHandler(this::handle)
                    .listen(port, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("simulator did not start", e);
        }
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.actualPort();
    }

    public void setModels(String... names) {
        models.clear();
        models.addAll(List.of(names));
    }

    /** Every request answers this status from now on (0: behave). */
    public void failWith(int status) {
        failWithStatus = status;
    }

    /** Completion requests answer this status (0: behave) while the model list stays up, as an overloaded vLLM does. */
    public void failCompletionsWith(int status) {
        failCompletionsWith = status;
    }

    /** Completion requests are read and never answered: no status, no byte. */
    public void hang(boolean on) {
        hang = on;
    }

    /** Streams close their connection after this many tokens, without [DONE] (0: never). */
    public void dropStreamsAfter(int tokens) {
        dropAfterTokens = tokens;
    }

    /** Delay before the first token (prefill), for streamed and whole answers alike. */
    public void firstTokenDelay(long millis) {
        firstTokenDelayMillis = millis;
    }

    /** The body of the last completion request received, as the backend saw it. */
    public JsonObject lastRequest() {
        return lastRequest;
    }

    /** Streams whose client went away before the end (the router cancelled them). */
    public int cancelled() {
        return cancelled.get();
    }

    /** Requests generating right now. */
    public int running() {
        return capacity() > 0 ? generating() : running.get();
    }

    /**
     * At most {@code n} completion requests generate at once (0: any number), as a vLLM server's batch size bounds
     * them; the others wait in its queue, first come first served, and {@code /metrics} reports both counts.
     */
    public synchronized void capacity(int n) {
        capacity = n;
    }

    private synchronized int capacity() {
        return capacity;
    }

    private synchronized int generating() {
        return generating;
    }

    /** Requests waiting for a place under {@link #capacity(int)}. */
    public synchronized int waiting() {
        return queued.size();
    }

    /** Runs {@code work} once a place is free; the place is given back when the request's response ends or breaks. */
    private void admit(HttpServerRequest request, Runnable work) {
        Runnable start = () -> {
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Runnable release = () -> {
                if (done.compareAndSet(false, true)) {
                    Runnable next;
                    synchronized (this) {
                        generating--;
                        next = queued.poll();
                        if (next != null) {
                            generating++;
                        }
                    }
                    if (next != null) {
                        next.run();
                    }
                }
            };
            request.response().endHandler(v -> release.run());
            request.connection().closeHandler(v -> release.run());
            work.run();
        };
        synchronized (this) {
            if (capacity > 0 && generating >= capacity) {
                queued.add(start);
                return;
            }
            generating++;
        }
        start.run();
    }

    /** Puts every switch back to normal behaviour. */
    public void reset() {
        failWithStatus = 0;
        failCompletionsWith = 0;
        hang = false;
        dropAfterTokens = 0;
        tokenDelayMillis = 0;
        firstTokenDelayMillis = 0;
        capacity(0);
    }

    /** Delay between streamed tokens, as a GPU's decode rate would impose. */
    public void tokenDelay(long millis) {
        tokenDelayMillis = millis;
    }

    /** Completion requests answered so far. */
    public int served() {
        return served.get();
    }

    /** Stops listening, as a crashed server would; {@link #restart()} listens again on the same port. */
    public void stop() {
        await(server.close());
    }

    public void restart() {
        listen(server.actualPort());
    }

    private void handle(HttpServerRequest request) {
        if (failWithStatus != 0) {
            request.response().setStatusCode(failWithStatus).putHeader("content-type", "application/json")
                    .end(error("simulated failure " + failWithStatus).encode());
            return;
        }
        String path = request.path();
        if ("GET".equals(request.method().name()) && "/v1/models".equals(path)) {
            JsonArray data = new JsonArray();
            models.forEach(m -> data.add(new JsonObject().put("id", m).put("object", "model")
                    .put("created", 1700000000L).put("owned_by", "vllm").put("max_model_len", 4096)));
            json(request, 200, new JsonObject().put("object", "list").put("data", data));
        } else if ("GET".equals(request.method().name()) && "/metrics".equals(path)) {
            String model = models.isEmpty() ? "none" : models.get(0);
            request.response().putHeader("content-type", "text/plain; version=0.0.4").end("""
                    # TYPE vllm:num_requests_running gauge
                    vllm:num_requests_running{model_name="%1$s"} %2$d
                    # TYPE vllm:num_requests_waiting gauge
                    vllm:num_requests_waiting{model_name="%1$s"} %3$d
                    # TYPE vllm:gpu_cache_usage_perc gauge
                    vllm:gpu_cache_usage_perc{model_name="%1$s"} %4$.3f
                    """.formatted(model, running(), waiting(), Math.min(1.0, running() / 16.0)));
        } else if ("GET".equals(request.method().name()) && "/health".equals(path)) {
            request.response().setStatusCode(200).end();
        } else if ("POST".equals(request.method().name())
                && ("/v1/chat/completions".equals(path) || "/v1/completions".equals(path))) {
            request.body().onSuccess(body -> {
                JsonObject json;
                try {
                    json = body.toJsonObject();
                } catch (RuntimeException e) {
                    json(request, 400, error("invalid JSON"));
                    return;
                }
                lastRequest = json;
                if (hang) {
                    return;
                }
                if (failCompletionsWith != 0) {
                    json(request, failCompletionsWith, error("simulated failure " + failCompletionsWith));
                    return;
                }
                JsonObject received = json;
                Runnable answer = () -> complete(request, received, path.contains("chat"));
                Runnable generate = () -> {
                    if (firstTokenDelayMillis > 0) {
                        vertx.setTimer(firstTokenDelayMillis, t -> answer.run());
                    } else {
                        answer.run();
                    }
                };
                if (capacity() > 0) {
                    admit(request, generate);
                } else {
                    generate.run();
                }
            });
        } else {
            json(request, 404, error("no route " + path));
        }
    }

    private void complete(HttpServerRequest request, JsonObject body, boolean chat) {
        String model = body.getString("model");
        if (model == null || !models.contains(model)) {
            json(request, 404, error("The model `" + model + "` does not exist."));
            return;
        }
        served.incrementAndGet();
        int maxTokens = body.getInteger("max_tokens", body.getInteger("max_completion_tokens", 16));
        if (body.containsKey("n") && body.getInteger("n", 1) > 1) {
            json(request, 400, error("this simulator answers n=1 only"));
            return;
        }
        int promptTokens = String.valueOf(chat ? body.getValue("messages") : body.getValue("prompt")).split("\\s+").length;
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID();
        if (!body.getBoolean("stream", false)) {
            StringBuilder text = new StringBuilder();
            for (int i = 1; i <= maxTokens; i++) {
                text.append(i == 1 ? "" : " ").append("tok").append(i);
            }
            JsonObject choice = chat
                    ? new JsonObject().put("index", 0).put("finish_reason", "length")
                            .put("message", new JsonObject().put("role", "assistant").put("content", text.toString()))
                    : new JsonObject().put("index", 0).put("finish_reason", "length").put("text", text.toString());
            json(request, 200, new JsonObject().put("id", id).put("object", chat ? "chat.completion" : "text_completion")
                    .put("created", System.currentTimeMillis() / 1000).put("model", model)
                    .put("choices", new JsonArray().add(choice)).put("usage", usage(promptTokens, maxTokens)));
            return;
        }
        running.incrementAndGet();
        request.response().setChunked(true).putHeader("content-type", "text/event-stream");
        request.response().closeHandler(v -> {
            if (!request.response().ended()) {
                cancelled.incrementAndGet();
                running.decrementAndGet();
            }
        });
        boolean includeUsage = body.getJsonObject("stream_options", new JsonObject()).getBoolean("include_usage", false);
        streamToken(request, id, model, chat, 1, maxTokens, promptTokens, includeUsage);
    }

    private void streamToken(HttpServerRequest request, String id, String model, boolean chat, int n, int max,
                             int promptTokens, boolean includeUsage) {
        if (request.response().closed()) {
            return;
        }
        if (dropAfterTokens > 0 && n > dropAfterTokens) {
            request.response().closeHandler(null); // a crash, not a cancellation
            running.decrementAndGet();
            request.connection().close();
            return;
        }
        if (n > max) {
            if (includeUsage) {
                sse(request, chunk(id, model, chat).put("choices", new JsonArray()).put("usage", usage(promptTokens, max)));
            }
            request.response().end("data: [DONE]\n\n");
            running.decrementAndGet();
            return;
        }
        String token = (n == 1 ? "" : " ") + "tok" + n;
        JsonObject choice = chat
                ? new JsonObject().put("index", 0).put("delta", new JsonObject().put("content", token))
                : new JsonObject().put("index", 0).put("text", token);
        choice.put("finish_reason", n == max ? "length" : null);
        sse(request, chunk(id, model, chat).put("choices", new JsonArray().add(choice)));
        Runnable next = () -> streamToken(request, id, model, chat, n + 1, max, promptTokens, includeUsage);
        if (tokenDelayMillis > 0) {
            vertx.setTimer(tokenDelayMillis, t -> next.run());
        } else {
            vertx.runOnContext(v -> next.run());
        }
    }

    private static JsonObject chunk(String id, String model, boolean chat) {
        return new JsonObject().put("id", id).put("object", chat ? "chat.completion.chunk" : "text_completion")
                .put("created", System.currentTimeMillis() / 1000).put("model", model);
    }

    private static void sse(HttpServerRequest request, JsonObject data) {
        request.response().write("data: " + data.encode() + "\n\n");
    }

    private static JsonObject usage(int prompt, int completion) {
        return new JsonObject().put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
    }

    private static JsonObject error(String message) {
        return new JsonObject().put("error", new JsonObject().put("message", message).put("type", "invalid_request_error"));
    }

    private static void json(HttpServerRequest request, int status, JsonObject body) {
        request.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
    }

    private static void await(io.vertx.core.Future<?> future) {
        try {
            future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        await(vertx.close());
    }
}
