package fr.osfria.ingest.audit;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.get;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.events.audit.AuditRecord;
import fr.osfria.testing.InJvmKafka;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import fr.osfria.testing.TopicProbe;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * Audit records take the short way to the broker once it has acknowledged one (see {@code AuditLog}); the rule
 * stays: a call answers only once its record is in the audit topic's log, and the record is the one the connector
 * sends (same topic, the CloudEvent as value, its subject as key), for the audited calls of a steady stream.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class AuditedCallsAnswerOnceRecordedTest {

    @Test
    void eachAnswerComesAfterItsRecordIsInTheLog() {
        String id = upload(TestKeys.FINANCE, "trace.txt", ("Trace " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8),
                KB, "{\"department\":\"finance\"}").statusCode(202).extract().path("document_id");
        int reads = 20;
        try (TopicProbe probe = TopicProbe.open(Topics.AUDIT); KafkaConsumer<String, String> offsets = consumer()) {
            List<TopicPartition> partitions = offsets.partitionsFor(Topics.AUDIT, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(Topics.AUDIT, p.partition())).toList();
            for (int i = 0; i < reads; i++) {
                long before = end(offsets, partitions);
                get(TestKeys.FINANCE, id).statusCode(200);
                // acks=all: once acknowledged, the record is below the end offset (the high watermark) of its partition
                assertTrue(end(offsets, partitions) > before, "read " + i + " answered before its audit record was in the log");
            }
            List<ConsumerRecord<String, String>> mine = probe.drain(Duration.ofSeconds(2)).stream()
                    .filter(r -> id.equals(r.key())).toList();
            assertEquals(reads, mine.size(), "one audit record per read, keyed by the document");
            for (ConsumerRecord<String, String> r : mine) {
                CloudEvent<AuditRecord> event = EventJson.decode(r.value(), AuditRecord.class);
                assertEquals(id, event.subject());
                assertEquals("document.read", event.data().action());
                assertEquals("ok", event.data().outcome());
                assertEquals("test-finance", event.data().keyName());
            }
        }
    }

    private static long end(KafkaConsumer<String, String> consumer, List<TopicPartition> partitions) {
        return consumer.endOffsets(partitions, Duration.ofSeconds(10)).values().stream().mapToLong(Long::longValue).sum();
    }

    private static KafkaConsumer<String, String> consumer() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, InJvmKafka.bootstrapServers());
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }
}
