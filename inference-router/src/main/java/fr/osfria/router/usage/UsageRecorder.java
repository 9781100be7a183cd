package fr.osfria.router.usage;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.usage.UsageRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Sends one usage record per request to the usage topic, keyed by key name (so one partition holds a key's
 * records). A plain Kafka producer rather than a messaging channel: it sits on the hot path of every inference
 * request, and {@code send} only appends to a batch that leaves every 50 ms.
 */
@ApplicationScoped
public class UsageRecorder {

    private static final String SOURCE = "/osfria/inference-router";

    private final KafkaProducer<String, String> producer;
    private final Counter lost;

    public UsageRecorder(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap, MeterRegistry meters) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "50");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "inference-router-usage");
        // while Kafka is away, records wait in memory (32 MiB is ~100,000 records) for up to 10 minutes
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "600000");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "0");
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        this.lost = Counter.builder("osfria.router.usage.records.lost")
                .description("Usage records Kafka did not take (its outage outlasted the buffer)").register(meters);
    }

    void stop(@Observes ShutdownEvent event) {
        producer.close(Duration.ofSeconds(10)); // flushes what is buffered
    }

    public void record(UsageRecord record) {
        String value = EventJson.encode(CloudEvent.of(SOURCE, EventTypes.USAGE_RECORDED, record.keyName(), record));
        try {
            producer.send(new ProducerRecord<>(Topics.USAGE, record.keyName(), value), (metadata, e) -> {
                if (e != null) {
                    failed(record, e);
                }
            });
        } catch (RuntimeException e) {
            failed(record, e);
        }
    }

    private void failed(UsageRecord record, Exception e) {
        lost.increment();
        Log.errorf("usage record %s (key %s, %d tokens) not written: %s", record.requestId(), record.keyName(),
                record.totalTokens(), e.getMessage());
    }
}
