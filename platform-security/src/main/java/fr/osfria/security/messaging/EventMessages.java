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

    private EventMessages() {
    }
}
