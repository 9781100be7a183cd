package fr.osfria.security.messaging;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Kafka messages carrying a CloudEvent: the JSON envelope as value, its subject (the entity id) as key. */
public final class EventMessages {

    public static Message<String> of(CloudEvent<?> event) {
        return Message.of(EventJson.encode(event))
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(event.subject()).build());
    }

    /**
     * A record a consumer cannot process, for its dead-letter topic: same key and value, with the reason and the
     * original topic in headers (the names SmallRye's own dead-letter strategy uses).
     */
    public static Message<String> deadLetter(io.smallrye.reactive.messaging.kafka.KafkaRecord<String, String> record, String reason) {
        org.apache.kafka.common.header.internals.RecordHeaders headers = new org.apache.kafka.common.header.internals.RecordHeaders();
        headers.add("dead-letter-reason", String.valueOf(reason).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        headers.add("dead-letter-topic", record.getTopic().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return Message.of(record.getPayload()).addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(record.getKey()).withHeaders(headers).build());
    }

    private EventMessages() {
    }
}
