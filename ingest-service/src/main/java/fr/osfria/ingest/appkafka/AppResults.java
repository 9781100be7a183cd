package fr.osfria.ingest.appkafka;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.Topics;
import fr.osfria.events.app.DocumentResult;
import fr.osfria.ingest.document.service.DocumentService;
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
 * What ingest-service answers a Kafka application at once: a {@code rejected} or {@code duplicate} result on its
 * results topic, and a rejected record on its dead-letter topic with the reason. ({@code indexed} and
 * {@code failed} leave later, through the outbox, with the document's status: {@code DocumentService}.)
 * Each send waits for the broker's acknowledgement, so a record's offset is committed only once its answer is out.
 */
@ApplicationScoped
public class AppResults {

    public static final String CHANNEL = "app-out";
    public static final String REASON_HEADER = "dead-letter-reason";

    private final MutinyEmitter<String> out;

    public AppResults(@Channel(CHANNEL) MutinyEmitter<String> out) {
        this.out = out;
    }

    Uni<Void> result(String app, DocumentResult result) {
        CloudEvent<DocumentResult> event = CloudEvent.of(DocumentService.SOURCE, DocumentResult.TYPE,
                result.documentId(), result);
        String key = result.documentId() != null ? result.documentId() : result.correlationId();
        return send(Topics.appResults(app), key, EventJson.encode(event), null);
    }

    /** The record, without its file, with where it was read and why it was refused. */
    Uni<Void> deadLetter(String app, String topic, int partition, long offset, String value, String reason) {
        Map<String, Object> letter = new LinkedHashMap<>();
        letter.put("reason", reason);
        letter.put("application", app);
        letter.put("topic", topic);
        letter.put("partition", partition);
        letter.put("offset", offset);
        JsonNode record = SubmittedRecord.withoutFile(value);
        if (record != null) {
            letter.put("record", record);
        } else {
            letter.put("record_bytes", value == null ? 0 : value.getBytes(StandardCharsets.UTF_8).length);
        }
        String json;
        try {
            json = EventJson.MAPPER.writeValueAsString(letter);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        RecordHeaders headers = new RecordHeaders();
        headers.add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        return send(Topics.appDeadLetter(app), topic + "-" + partition + "-" + offset, json, headers);
    }

    private Uni<Void> send(String topic, String key, String value, RecordHeaders headers) {
        OutgoingKafkaRecordMetadata.OutgoingKafkaRecordMetadataBuilder<String> meta =
                OutgoingKafkaRecordMetadata.<String>builder().withTopic(topic).withKey(key);
        if (headers != null) {
            meta = meta.withHeaders(headers);
        }
        return out.sendMessage(Message.of(value).addMetadata(meta.build()));
    }
}
