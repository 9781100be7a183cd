package fr.osfria.router.proxy;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static fr.osfria.router.SimulatedBackends.MISTRAL;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.UnauthorizedException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import fr.osfria.router.RouterClient;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK, unchanged, with its base URL pointed at the router. */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(SimulatedBackends.class)
class OpenAiSdkTest {

    private static OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().apiKey(key).baseUrl(RouterClient.uri("/v1").toString()).maxRetries(0).build();
    }

    @BeforeEach
    void backendsUp() {
        SimulatedBackends.resetAll();
        await().atMost(Duration.ofSeconds(10)).until(() -> client(TestKeys.READER).models().list().data().size() == 2);
    }

    @Test
    void chatWholeAndStreamedThroughTheSdk() {
        OpenAIClient client = client(TestKeys.READER);
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(LLAMA)
                .addUserMessage("one two three").maxCompletionTokens(4).putAdditionalBodyProperty("top_k",
                        com.openai.core.JsonValue.from(20)).build();
        ChatCompletion whole = client.chat().completions().create(params);
        assertEquals("tok1 tok2 tok3 tok4", whole.choices().get(0).message().content().orElseThrow());
        assertEquals(4, whole.usage().orElseThrow().completionTokens());

        ChatCompletionCreateParams streamed = params.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        StringBuilder text = new StringBuilder();
        long[] usage = {-1};
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(streamed)) {
            stream.stream().forEach(chunk -> {
                chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append));
                chunk.usage().ifPresent(u -> usage[0] = u.completionTokens());
            });
        }
        assertEquals("tok1 tok2 tok3 tok4", text.toString());
        assertEquals(4, usage[0]);
    }

    @Test
    void aStreamBrokenMidwayRaisesAnErrorInTheSdkInsteadOfEndingQuietly() {
        SimulatedBackends.second.dropStreamsAfter(2);
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(MISTRAL)
                .addUserMessage("hi").maxCompletionTokens(10).build();
        StringBuilder text = new StringBuilder();
        RuntimeException error = assertThrows(RuntimeException.class, () -> {
            try (StreamResponse<ChatCompletionChunk> stream = client(TestKeys.READER).chat().completions().createStreaming(params)) {
                stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append)));
            }
        });
        assertEquals("tok1 tok2", text.toString());
        assertTrue(String.valueOf(error.getMessage()).contains("stream"), error.toString());
    }

    @Test
    void textCompletionsModelsAndErrorsThroughTheSdk() {
        OpenAIClient client = client(TestKeys.READER);
        Completion c = client.completions().create(CompletionCreateParams.builder()
                .model(CompletionCreateParams.Model.of(MISTRAL)).prompt("Once upon a time").maxTokens(3).build());
        assertEquals("tok1 tok2 tok3", c.choices().get(0).text());
        List<String> models = client.models().list().data().stream().map(Model::id).sorted().collect(Collectors.toList());
        assertEquals(List.of(LLAMA, MISTRAL), models);
        assertEquals(MISTRAL, client.models().retrieve(MISTRAL).id());

        NotFoundException notFound = assertThrows(NotFoundException.class, () -> client.chat().completions()
                .create(ChatCompletionCreateParams.builder().model("gpt-5").addUserMessage("hi").build()));
        assertTrue(notFound.getMessage().contains("gpt-5"), notFound.getMessage());
        assertThrows(UnauthorizedException.class, () -> client("sk-osfria-not-a-real-key").chat().completions()
                .create(ChatCompletionCreateParams.builder().model(LLAMA).addUserMessage("hi").build()));
    }
}
