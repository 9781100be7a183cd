package fr.osfria.router.usage;

import fr.osfria.events.Topics;
import io.quarkus.logging.Log;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the whole usage tallies topic for the quota ledger: from the start of the month when the process starts,
 * then live. After a Kafka error it resumes where it stopped, so the totals read so far stay (they are never
 * cleared and never counted twice). {@link #caughtUp()} turns true once the first replay reached the end of the
 * topic as it was when the replay started, and stays true.
 */
final class TalliesReader implements Runnable {

    /** Where each tally goes; {@code own} when this process wrote it. */
    interface Sink {
        void tally(TalliesTopic.Tally tally, boolean own);
    }

    private final String bootstrap;
    private final Supplier<Instant> monthStart;
    private final Sink sink;
    /** Per partition, the offset after the last record handed to the sink: where a new consumer resumes. */
    private final Map<TopicPartition, Long> next = new HashMap<>();
    private volatile boolean running = true;
    private volatile boolean caughtUp;
    private volatile KafkaConsumer<String, String> consumer;

    TalliesReader(String bootstrap, Supplier<Instant> monthStart, Sink sink) {
        this.bootstrap = bootstrap;
        this.monthStart = monthStart;
        this.sink = sink;
    }

    boolean caughtUp() {
        return caughtUp;
    }

    void stop() {
        running = false;
        KafkaConsumer<String, String> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    @Override
    public void run() {
        while (running) {
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(
                    TalliesTopic.consumerProperties(bootstrap, "inference-router-usage-ledger"), new StringDeserializer(),
                    new StringDeserializer())) {
                consumer = c;
                if (!running) {
                    return;
                }
                List<TopicPartition> partitions = c.partitionsFor(Topics.USAGE_TALLIES, Duration.ofSeconds(10)).stream()
                        .map(p -> new TopicPartition(Topics.USAGE_TALLIES, p.partition())).toList();
                if (partitions.isEmpty()) {
                    Thread.sleep(1000);
                    continue;
                }
                c.assign(partitions);
                Map<TopicPartition, Long> from = new HashMap<>(
                        TalliesTopic.monthStartOffsets(c, partitions, monthStart.get()));
                from.putAll(next); // a resumption: what was read before stays read
                from.forEach(c::seek);
                Map<TopicPartition, Long> ends = c.endOffsets(partitions);
                while (running) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                        TalliesTopic.Tally tally = TalliesTopic.read(r, "usage ledger");
                        if (tally != null) {
                            sink.tally(tally, TalliesTopic.writtenHere(r));
                        }
                        next.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
                    }
                    if (!caughtUp && partitions.stream().allMatch(p -> c.position(p) >= ends.get(p))) {
                        caughtUp = true;
                        Log.infof("usage ledger caught up with %s", Topics.USAGE_TALLIES);
                    }
                }
            } catch (WakeupException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                Log.warnf("usage ledger: %s; the totals read so far stay, reading on in 2 s", e.toString());
                sleep(2000);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
