package fr.osfria.router.batch;

import static fr.osfria.router.SimulatedBackends.LLAMA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeysCli;
import fr.osfria.testing.AsyncApiContract;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.TestKeys;
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

/** A Kafka application for the batch tests: its key and topics, its OpenAI Batch lines, and reading its answers. */
public final class BatchTestSupport {

    /** A Kafka application's key (with a daily quota, or none), written to the key file, and its topics. */
    public static String application(String prefix, Long dailyTokens) throws Exception {
        String app = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        synchronized (TestKeys.class) {
            KeysCli.create(TestKeys.FILE, new KeyEntry(app, null, null, Set.of("user"), List.of(), List.of(), List.of(),
                    false, dailyTokens, null, null, null, null, null, true));
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", InJvmKafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(Topics.appInference(app), 2, (short) 1),
                    new NewTopic(Topics.appResults(app), 1, (short) 1),
                    new NewTopic(Topics.appDeadLetter(app), 1, (short) 1))).all().get();
        }
        return app;
    }

    public static String line(String customId, int maxTokens) {
        return "{\"custom_id\":\"" + customId + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
                + "{\"model\":\"" + LLAMA + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],\"max_tokens\":"
                + maxTokens + "}}";
    }

    public static void send(String app, Map<String, String> records) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (Map.Entry<String, String> r : records.entrySet()) {
                producer.send(new ProducerRecord<>(Topics.appInference(app), r.getKey(), r.getValue()));
            }
            producer.flush();
        }
    }

    /** The answers read so far, by custom_id, each checked against the contract; fails on a second answer. */
    public static Map<String, JsonNode> answers(List<ConsumerRecord<String, String>> records) throws Exception {
        Map<String, JsonNode> byId = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            AsyncApiContract.assertValid("InferenceResult", r.value());
            JsonNode data = EventJson.MAPPER.readTree(r.value()).path("data");
            assertEquals(r.key(), data.path("custom_id").asText());
            JsonNode before = byId.put(r.key(), data);
            assertNull(before, "a second answer for " + r.key());
        }
        return byId;
    }

    private BatchTestSupport() {
    }
}
