package fr.osfria.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Reads a topic of the shared broker from the moment the probe is opened, so a test sees only what its own
 * action produced. Open it before the action, then await what should arrive. What it reads from the public events
 * topic is checked against {@code docs/asyncapi.yaml} ({@link AsyncApiContract#assertPublished}).
 */
public final class TopicProbe implements AutoCloseable {

    private final KafkaConsumer<String, String> consumer;
    private final List<ConsumerRecord<String, String>> seen = new ArrayList<>();

    private TopicProbe(String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "probe-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // what a consumer of the platform sees: records of aborted transactions never count
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        ensureTopic(topic);
        List<TopicPartition> partitions = List.of();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (partitions.isEmpty()) { // a topic just created may not be in the metadata yet
            partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            if (partitions.isEmpty() && System.nanoTime() > deadline) {
                throw new IllegalStateException("topic " + topic + " has no partitions");
            }
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // resolve the end offsets now, before the test acts
    }

    public static TopicProbe open(String topic) {
        return new TopicProbe(topic);
    }

    /** Waits until a record matching {@code match} arrives; fails the test with what did arrive if none does. */
    public ConsumerRecord<String, String> await(Predicate<ConsumerRecord<String, String>> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int checked = 0;
        while (true) {
            for (; checked < seen.size(); checked++) {
                if (match.test(seen.get(checked))) {
                    return seen.get(checked);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no matching record within " + timeout + "; saw " + seen.size() + ": "
                        + seen.stream().map(ConsumerRecord::value).collect(Collectors.joining("\n  ", "\n  ", "")));
            }
            consumer.poll(Duration.ofMillis(100)).forEach(this::take);
        }
    }

    /** Everything that arrives within {@code window}: for asserting that something did NOT arrive, or arrived once. */
    public List<ConsumerRecord<String, String>> drain(Duration window) {
        long deadline = System.nanoTime() + window.toNanos();
        while (System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(100)).forEach(this::take);
        }
        return List.copyOf(seen);
    }

    /**
     * Every record read from a topic {@code docs/asyncapi.yaml} describes (the public events) must match it: a
     * service's record the document does not describe fails the test that reads it.
     */
    private void take(ConsumerRecord<String, String> record) {
        AsyncApiContract.assertPublished(record);
        seen.add(record);
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(1));
    }

    /** Sends one record and waits for the broker's acknowledgement. */
    public static void send(String topic, String key, String value) {
        send(topic, key, value, Map.of());
    }

    public static void send(String topic, String key, String value, Map<String, String> headers) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, value);
            headers.forEach((k, v) -> record.headers().add(k, v.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            producer.send(record).get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot send to " + topic, e);
        }
    }

    private static void ensureTopic(String topic) {
        Properties props = new Properties();
        props.put("bootstrap.servers", InJvmKafka.bootstrapServers());
        try (var admin = org.apache.kafka.clients.admin.Admin.create(props)) {
            if (!admin.listTopics().names().get().contains(topic)) {
                admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, 3, (short) 1))).all().get();
            }
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + topic, e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
