package fr.osfria.router.batch;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.router.SimulatedBackends;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.AsyncApiContract;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Batch inference on the real broker, as an application sends it: OpenAI Batch lines on
 * {@code osfria.app.<name>.inference.v1}, one answer per record on its {@code results.v1} (read read_committed,
 * matching docs/asyncapi.yaml), usage charged to the application's key, its quota enforced with error answers, and
 * bad records answered or dead-lettered without holding up the next one.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(SimulatedBackends.class)
class BatchInferenceTest {

    private static String application(String prefix, Long daily) throws Exception {
        return BatchTestSupport.application(prefix, daily);
    }

    private static String line(String id, int maxTokens) {
        return BatchTestSupport.line(id, maxTokens);
    }

    private static void send(String app, Map<String, String> records) throws Exception {
        BatchTestSupport.send(app, records);
    }

    private static Map<String, JsonNode> answers(List<ConsumerRecord<String, String>> records) throws Exception {
        return BatchTestSupport.answers(records);
    }


    @BeforeEach
    void backendsUp() {
        SimulatedBackends.resetAll();
    }

    @Test
    void aBatchIsAnsweredOncePerRequestAndChargedToTheApplicationsKey() throws Exception {
        String app = application("batch", null);
        try (TopicProbe results = TopicProbe.open(Topics.appResults(app));
             TopicProbe usage = TopicProbe.open(Topics.USAGE)) {
            Map<String, String> batch = new HashMap<>();
            for (int i = 0; i < 50; i++) {
                AsyncApiContract.assertValid("InferenceRequest", line("q-" + i, 5));
                batch.put("q-" + i, line("q-" + i, 5));
            }
            send(app, batch);
            results.await(r -> countKeys(results) >= 50, Duration.ofSeconds(60));
            Map<String, JsonNode> answers = answers(results.drain(Duration.ofSeconds(1)));
            assertEquals(batch.keySet(), answers.keySet());
            for (JsonNode a : answers.values()) {
                assertEquals(200, a.path("response").path("status_code").asInt(), a.toString());
                assertEquals("tok1 tok2 tok3 tok4 tok5", a.path("response").path("body").path("choices").get(0)
                        .path("message").path("content").asText());
                assertEquals(5, a.path("usage").path("completion_tokens").asLong());
                assertTrue(a.path("error").isNull());
            }
            // the application's key pays: one usage record per request, under its name
            usage.await(r -> countUsage(usage, app) >= 50, Duration.ofSeconds(30));
            assertEquals(50, countUsage(usage, app));
        }
    }

    @Test
    void overQuotaRequestsAreAnsweredWithAnErrorNotDropped() throws Exception {
        // the simulator counts three prompt tokens for "Say hi": each request uses 3 + 20 = 23 of 100 tokens
        String app = application("quota", 100L);
        try (TopicProbe results = TopicProbe.open(Topics.appResults(app))) {
            Map<String, String> batch = new HashMap<>();
            for (int i = 0; i < 12; i++) {
                batch.put("q-" + i, line("q-" + i, 20));
            }
            send(app, batch);
            results.await(r -> countKeys(results) >= 12, Duration.ofSeconds(60));
            Map<String, JsonNode> answers = answers(results.drain(Duration.ofSeconds(1)));
            assertEquals(batch.keySet(), answers.keySet());
            long served = answers.values().stream().filter(a -> a.path("response").path("status_code").asInt() == 200).count();
            long refused = answers.values().stream().filter(a -> "quota_exceeded".equals(a.path("error").path("code").asText())).count();
            assertTrue(served >= 1 && served <= 5, "at most 100 tokens' worth served: " + served);
            assertEquals(12, served + refused, answers.toString());
        }
    }

    @Test
    void badRecordsAreAnsweredOrDeadLetteredAndTheNextOneGoesOn() throws Exception {
        String app = application("bad", null);
        try (TopicProbe results = TopicProbe.open(Topics.appResults(app));
             TopicProbe dlq = TopicProbe.open(Topics.appDeadLetter(app))) {
            Map<String, String> batch = new java.util.LinkedHashMap<>();
            batch.put("k", "{not json");
            batch.put("no-id", "{\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"" + LLAMA + "\"}}");
            batch.put("embeddings", line("embeddings", 3).replace("/v1/chat/completions", "/v1/embeddings"));
            batch.put("stream", line("stream", 3).replace("\"max_tokens\"", "\"stream\":true,\"max_tokens\""));
            batch.put("no-model", line("no-model", 3).replace(LLAMA, "no/such-model"));
            batch.put("good", line("good", 3));
            // one partition: the good record comes after every bad one
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                for (Map.Entry<String, String> r : batch.entrySet()) {
                    producer.send(new ProducerRecord<>(Topics.appInference(app), 0, r.getKey(), r.getValue()));
                }
            }
            results.await(r -> "good".equals(r.key()), Duration.ofSeconds(60));
            Map<String, JsonNode> answers = answers(results.drain(Duration.ofSeconds(1)));
            assertEquals(Set.of("embeddings", "stream", "no-model", "good"), answers.keySet());
            assertEquals("invalid_url", answers.get("embeddings").path("error").path("code").asText());
            assertEquals("invalid_request", answers.get("stream").path("error").path("code").asText());
            assertEquals("model_not_found", answers.get("no-model").path("error").path("code").asText());
            assertEquals(200, answers.get("good").path("response").path("status_code").asInt());

            List<ConsumerRecord<String, String>> letters = dlq.drain(Duration.ofSeconds(1));
            assertEquals(2, letters.size(), letters.toString());
            for (ConsumerRecord<String, String> letter : letters) {
                AsyncApiContract.assertValid("DeadLetter", letter.value());
                String reason = new String(letter.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8);
                assertTrue(reason.contains("not JSON") || reason.contains("custom_id"), reason);
            }
        }
    }

    private static long countKeys(TopicProbe probe) {
        return probe.drain(Duration.ZERO).stream().map(ConsumerRecord::key).distinct().count();
    }

    private static long countUsage(TopicProbe probe, String app) {
        return probe.drain(Duration.ZERO).stream().filter(r -> r.key().equals(app)).count();
    }
}
