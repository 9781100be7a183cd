package fr.osfria.router.usage;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import fr.osfria.events.EventJson;
import io.quarkus.logging.Log;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
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
import org.apache.kafka.common.header.Header;

/** What the two readers of the usage tallies topic (the quota ledger and the threshold notifier) share. */
final class TalliesTopic {

    /**
     * Header naming the process that wrote a tally: the quota ledger holds this replica's settled usage until it
     * reads it back from the topic, and must know which tallies are its own.
     */
    static final String WRITER_HEADER = "osfria-writer";
    /** This process, as written in {@link #WRITER_HEADER}. */
    static final byte[] WRITER = UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII);

    static boolean writtenHere(ConsumerRecord<?, ?> r) {
        Header writer = r.headers().lastHeader(WRITER_HEADER);
        return writer != null && Arrays.equals(writer.value(), WRITER);
    }

    static Properties consumerProperties(String bootstrap, String clientId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
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

    /** What the readers need of a tally ({@code requests} is 0 in tallies written before it was read). */
    record Tally(String keyName, Instant time, long totalTokens, long requests) {
        Tally(String keyName, Instant time, long totalTokens) {
            this(keyName, time, totalTokens, 0);
        }
    }

    /**
     * The key, time and total of the tally a Kafka record carries, or null (logged) when it cannot be read. Every
     * replica replays the month's tallies when it starts, so this pulls the three fields out of the event with a
     * streaming parser instead of binding the whole event: several times less CPU and garbage per record.
     */
    static Tally read(ConsumerRecord<String, String> r, String reader) {
        try (JsonParser json = EventJson.MAPPER.getFactory().createParser(r.value())) {
            Tally tally = null;
            if (json.nextToken() == JsonToken.START_OBJECT) {
                while (json.nextToken() == JsonToken.FIELD_NAME) {
                    String field = json.currentName();
                    if (json.nextToken() == JsonToken.START_OBJECT && "data".equals(field)) {
                        tally = data(json);
                    } else {
                        json.skipChildren();
                    }
                }
            }
            if (tally == null) {
                throw new IllegalArgumentException("no tally data");
            }
            return tally;
        } catch (IOException | RuntimeException e) {
            Log.warnf("%s: skipped an unreadable record at %s-%d@%d", reader, r.topic(), r.partition(), r.offset());
            return null;
        }
    }

    private static Tally data(JsonParser json) throws IOException {
        String key = null;
        Instant time = null;
        long total = -1;
        long requests = 0;
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            String field = json.currentName();
            JsonToken value = json.nextToken();
            switch (field) {
                case "keyName" -> key = value == JsonToken.VALUE_STRING ? json.getText() : null;
                case "time" -> time = value == JsonToken.VALUE_STRING ? Instant.parse(json.getText()) : null;
                case "totalTokens" -> total = value == JsonToken.VALUE_NUMBER_INT ? json.getLongValue() : -1;
                case "requests" -> requests = value == JsonToken.VALUE_NUMBER_INT ? Math.max(0, json.getLongValue()) : 0;
                default -> json.skipChildren();
            }
        }
        return key == null || key.isBlank() || time == null || total < 0 ? null : new Tally(key, time, total, requests);
    }

    private TalliesTopic() {
    }
}
