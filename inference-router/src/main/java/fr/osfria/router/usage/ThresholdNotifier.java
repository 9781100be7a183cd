package fr.osfria.router.usage;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.events.usage.UsageThreshold;
import fr.osfria.router.RouterConfig;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.messaging.ConsumerLiveness;
import io.quarkus.logging.Log;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes {@code usage.threshold} exactly once per key, window and fraction, however many router replicas run.
 *
 * <p>Replicas share a consumer group on the usage tallies topic, whose records are keyed by key name, so each key's
 * tallies are read by one replica at a time. A tally sums a second of one replica's usage of a key: a crossing is
 * seen at the tally that reaches it, and one tally may cross several fractions. Each poll's threshold events and the
 * consumed offsets are committed in one Kafka transaction: a replica that dies mid-batch leaves nothing visible, and
 * the next owner resumes at the last committed offset. A new owner rebuilds the totals by re-reading its partitions from the start of the month up to
 * the committed offset, without publishing; only records past it can cross a threshold.
 *
 * <p>A batch that crosses nothing has nothing to make visible, so its offsets wait and go with the next transaction,
 * at the latest after {@link #QUIET_COMMIT_INTERVAL}: one transaction per poll (several a second under load) cost
 * the router's request latency more than anything else on its CPU. Leaving them uncommitted is safe: a new owner
 * replays those records live, and the same records give the same totals, so they cross nothing for it either.
 */
public final class ThresholdNotifier implements Runnable, AutoCloseable {

    static final Duration QUIET_COMMIT_INTERVAL = Duration.ofSeconds(5);

    private final String bootstrap;
    private final String groupId;
    private final Function<String, KeyEntry> keys;
    private final List<Double> fractions;
    private final UsageTotals totals;
    private final Map<TopicPartition, Long> replayUntil = new HashMap<>();
    /** Offsets of records processed live whose batches crossed nothing: committed with the next transaction. */
    private final Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();
    private long lastCommitNanos = System.nanoTime();
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, String> consumer;
    private volatile boolean rebuild;

    public ThresholdNotifier(String bootstrap, String groupId, Function<String, KeyEntry> keys, List<Double> fractions,
                             ZoneId zone) {
        this.bootstrap = bootstrap;
        this.groupId = groupId;
        this.keys = keys;
        this.fractions = List.copyOf(fractions);
        this.totals = new UsageTotals(zone);
    }

    @Override
    public void run() {
        while (running) {
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProperties(), new StringDeserializer(),
                    new StringDeserializer());
                 KafkaProducer<String, String> producer = new KafkaProducer<>(producerProperties(),
                         new StringSerializer(), new StringSerializer())) {
                consumer = c;
                producer.initTransactions();
                c.subscribe(List.of(Topics.USAGE_TALLIES), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        // still their owner here: hand them over with their position committed; if that fails the
                        // next owner replays a little more, which is safe
                        try {
                            commit(c, producer, List.of());
                        } catch (RuntimeException e) {
                            uncommitted.clear();
                            Log.debugf("usage thresholds: offsets not committed on hand-over: %s", e.toString());
                        }
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        rebuild(c);
                    }
                });
                while (running) {
                    if (rebuild) {
                        rebuild(c);
                    }
                    ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(500));
                    if (!records.isEmpty()) {
                        process(c, producer, records);
                    } else if (quietTooLong()) {
                        commit(c, producer, List.of());
                    }
                }
            } catch (WakeupException e) {
                return;
            } catch (Exception e) {
                if (!running) {
                    return;
                }
                Log.warnf("usage thresholds: %s; starting again in 2 s", e.toString());
                sleep(2000);
            }
        }
    }

    private void process(KafkaConsumer<String, String> c, KafkaProducer<String, String> producer,
                         ConsumerRecords<String, String> records) {
        List<ProducerRecord<String, String>> events = new ArrayList<>();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            // replayed records only rebuild the totals: their events were committed by an earlier owner, and
            // their offsets must not move the committed position back
            boolean replaying = r.offset() < replayUntil.getOrDefault(tp, 0L);
            List<ProducerRecord<String, String>> caused = apply(r, !replaying);
            if (!replaying) {
                events.addAll(caused);
                offsets.put(tp, new OffsetAndMetadata(r.offset() + 1));
            }
        }
        uncommitted.putAll(offsets);
        if (!events.isEmpty() || quietTooLong()) {
            commit(c, producer, events);
        }
    }

    /** Whether offsets have waited long enough without a crossing to go in a transaction of their own. */
    private boolean quietTooLong() {
        return !uncommitted.isEmpty() && System.nanoTime() - lastCommitNanos >= QUIET_COMMIT_INTERVAL.toNanos();
    }

    /** The events and every uncommitted offset in one transaction. */
    private void commit(KafkaConsumer<String, String> c, KafkaProducer<String, String> producer,
                        List<ProducerRecord<String, String>> events) {
        lastCommitNanos = System.nanoTime();
        if (uncommitted.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(uncommitted);
        uncommitted.clear();
        producer.beginTransaction();
        try {
            events.forEach(producer::send);
            producer.sendOffsetsToTransaction(offsets, c.groupMetadata());
            producer.commitTransaction();
        } catch (RuntimeException e) {
            // nothing of this batch is visible; the totals it touched are rebuilt from the committed offsets
            try {
                producer.abortTransaction();
            } catch (RuntimeException ignored) {
                throw e; // fenced or broken producer: the outer loop starts over with new clients
            }
            rebuild = true;
            Log.warnf("usage thresholds: batch aborted (%s); rebuilding", e.toString());
        }
    }

    /** The threshold events one tally causes. */
    private List<ProducerRecord<String, String>> apply(ConsumerRecord<String, String> r, boolean live) {
        TalliesTopic.Tally u = TalliesTopic.read(r, "usage thresholds");
        if (u == null) {
            return List.of();
        }
        UsageTotals.Change change = totals.add(u.keyName(), u.time(), u.totalTokens());
        KeyEntry key = keys.apply(u.keyName());
        if (key == null) {
            return List.of();
        }
        List<ProducerRecord<String, String>> events = new ArrayList<>();
        crossed(key, "daily", change.day(), key.dailyTokens(), change.dayBefore(), change.dayAfter(), events, live);
        crossed(key, "monthly", change.month(), key.monthlyTokens(), change.monthBefore(), change.monthAfter(), events, live);
        return events;
    }

    private void crossed(KeyEntry key, String window, String period, Long quota, long before, long after,
                         List<ProducerRecord<String, String>> out, boolean live) {
        if (quota == null || quota <= 0) {
            return;
        }
        for (double f : fractions) {
            double mark = f * quota;
            if (before < mark && after >= mark) {
                UsageThreshold data = new UsageThreshold(key.name(), window, period, f, after, quota);
                // the id names the crossing, so a receiver can recognise it even if it were ever published again
                String id = "usage-threshold:" + key.name() + ":" + window + ":" + period + ":" + f;
                CloudEvent<UsageThreshold> event = new CloudEvent<>(CloudEvent.SPEC_VERSION, id, RouterConfig.EVENT_SOURCE,
                        EventTypes.USAGE_THRESHOLD, Instant.now(), key.name(), CloudEvent.JSON, data);
                out.add(new ProducerRecord<>(Topics.PUBLIC_EVENTS, key.name(), EventJson.encode(event)));
                if (live) {
                    Log.infof("usage.threshold: key %s reached %.0f%% of its %s quota (%d/%d tokens, %s)",
                            key.name(), f * 100, window, after, quota, period);
                }
            }
        }
    }

    /** Re-reads the assigned partitions from the month's start; records before the committed offsets only count. */
    private void rebuild(KafkaConsumer<String, String> c) {
        rebuild = false;
        totals.clear();
        replayUntil.clear();
        uncommitted.clear();
        Set<TopicPartition> assigned = c.assignment();
        Log.infof("usage thresholds: %s owns %s", c.groupMetadata().memberId(), assigned);
        if (assigned.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> committed = c.committed(assigned);
        Map<TopicPartition, Long> monthStart = TalliesTopic.monthStartOffsets(c, assigned, totals.monthStart(Instant.now()));
        for (TopicPartition p : assigned) {
            OffsetAndMetadata done = committed.get(p);
            long fromOffset = monthStart.get(p);
            if (done == null) {
                c.seek(p, fromOffset); // never processed by anyone: every record of the month may cross
            } else {
                c.seek(p, Math.min(fromOffset, done.offset()));
                replayUntil.put(p, done.offset());
            }
        }
    }

    private Properties consumerProperties() {
        Properties p = TalliesTopic.consumerProperties(bootstrap, groupId + "-" + UUID.randomUUID().toString().substring(0, 8));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // a killed replica's partitions move to another within the platform's session time-out
        return ConsumerLiveness.applyTo(p);
    }

    private Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        // unique per instance: fencing of a zombie goes through the consumer group generation (KIP-447)
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, groupId + "-" + UUID.randomUUID());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // a crashed replica's open transaction holds back read_committed readers until it times out
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "15000");
        return p;
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, String> c = consumer;
        if (c != null) {
            c.wakeup();
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
