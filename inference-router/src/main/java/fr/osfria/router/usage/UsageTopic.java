package fr.osfria.router.usage;

import fr.osfria.events.EventJson;
import fr.osfria.events.usage.UsageRecord;
import io.quarkus.logging.Log;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

/** What the two readers of the usage topic (the quota ledger and the threshold notifier) share. */
final class UsageTopic {

    static Properties consumerProperties(String bootstrap, String clientId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        // wake up for a batch, not for every record: quota figures may lag half a second, CPU is worth more
        p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "65536");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "500");
        return p;
    }

    /** Per partition, the offset of its first record at or after {@code monthStart}, or its end when it has none. */
    static Map<TopicPartition, Long> monthStartOffsets(Consumer<?, ?> consumer, Collection<TopicPartition> partitions,
                                                       Instant monthStart) {
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(p -> query.put(p, monthStart.toEpochMilli()));
        Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        Map<TopicPartition, Long> offsets = new HashMap<>();
        for (TopicPartition p : partitions) {
            OffsetAndTimestamp at = found.get(p);
            offsets.put(p, at != null ? at.offset() : ends.get(p));
        }
        return offsets;
    }

    /** The usage record a Kafka record carries, or null (logged) when it cannot be read. */
    static UsageRecord read(ConsumerRecord<String, String> r, String reader) {
        try {
            return EventJson.decode(r.value(), UsageRecord.class).data();
        } catch (RuntimeException e) {
            Log.warnf("%s: skipped an unreadable record at %s-%d@%d", reader, r.topic(), r.partition(), r.offset());
            return null;
        }
    }

    private UsageTopic() {
    }
}
