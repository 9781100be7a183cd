package fr.osfria.webhook;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.testing.InJvmKafka;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Bursts of {@code model.loaded} events on the real public topic, each naming a model of its own, so that a receiver
 * can tell which event a delivery carries ({@link #modelOf}) and a test can time it from its publication.
 */
public final class ModelEvents {

    private ModelEvents() {
    }

    /** Publishes {@code n} events at once; returns their models, each noted in {@code sentAt} (nanoTime) as it is sent. */
    public static List<String> publish(int n, String source, Map<String, Long> sentAt) {
        Properties props = new Properties();
        props.put("bootstrap.servers", InJvmKafka.bootstrapServers());
        props.put("linger.ms", "5");
        List<String> models = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < n; i++) {
                String model = "m" + UUID.randomUUID();
                models.add(model);
                sentAt.put(model, System.nanoTime());
                producer.send(new ProducerRecord<>(Topics.PUBLIC_EVENTS, model, EventJson.encode(CloudEvent.of(source,
                        EventTypes.MODEL_LOADED, model, new ModelAvailability(model, "gpu", 1)))));
            }
        }
        return models;
    }

    /** The model a delivery's body is about. */
    public static String modelOf(String body) {
        return MODEL.matcher(body).replaceAll("$1");
    }

    /** Compiled once: a receiver calls {@link #modelOf} for every request, in the benchmark thousands a second. */
    private static final java.util.regex.Pattern MODEL = java.util.regex.Pattern.compile(".*\"model\":\"([^\"]+)\".*");

    /** Each model's time from its publication to its delivery, in ms, sorted. */
    public static List<Long> latencies(List<String> models, Map<String, Long> sentAt, Map<String, Long> receivedAt) {
        List<Long> latencies = new ArrayList<>();
        for (String m : models) {
            latencies.add((receivedAt.get(m) - sentAt.get(m)) / 1_000_000);
        }
        latencies.sort(Long::compare);
        return latencies;
    }

    /** The 99th percentile of sorted latencies. */
    public static long p99(List<Long> sorted) {
        return sorted.get((int) (sorted.size() * 0.99) - 1);
    }
}
