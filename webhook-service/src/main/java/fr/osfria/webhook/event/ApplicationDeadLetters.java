package fr.osfria.webhook.event;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * A refused application event on the application's dead-letter topic {@code osfria.app.<name>.dlq.v1}, in the form
 * ingest-service gives the refused documents (docs/asyncapi.yaml, {@code DeadLetter}): the reason (also in the
 * {@code dead-letter-reason} header), where the record was read, and the record itself when it was a JSON object
 * within the size (otherwise its size only). Each send waits for the broker's acknowledgement.
 */
@ApplicationScoped
public class ApplicationDeadLetters {

    public static final String CHANNEL = "app-dead-letters";
    public static final String REASON_HEADER = "dead-letter-reason";

    private final MutinyEmitter<String> out;

    public ApplicationDeadLetters(@Channel(CHANNEL) MutinyEmitter<String> out) {
        this.out = out;
    }

    Uni<Void> send(String app, String topic, int partition, long offset, String value, String reason) {
        Map<String, Object> letter = new LinkedHashMap<>();
        letter.put("reason", reason);
        letter.put("application", app);
        letter.put("topic", topic);
        letter.put("partition", partition);
        letter.put("offset", offset);
        JsonNode record = ApplicationEvent.asJsonObject(value);
        if (record != null) {
            letter.put("record", record);
        } else {
            letter.put("record_bytes", value == null ? 0 : value.getBytes(StandardCharsets.UTF_8).length);
        }
        RecordHeaders headers = new RecordHeaders();
        headers.add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        return out.sendMessage(Message.of(EventJson.encodeMap(letter)).addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                .withTopic(Topics.appDeadLetter(app)).withKey(topic + "-" + partition + "-" + offset)
                .withHeaders(headers).build()));
    }
}
