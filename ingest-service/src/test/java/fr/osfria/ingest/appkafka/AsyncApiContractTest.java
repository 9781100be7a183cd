package fr.osfria.ingest.appkafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import fr.osfria.events.EventTypes;
import fr.osfria.events.Topics;
import fr.osfria.testing.AsyncApiContract;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/asyncapi.yaml}: each message's examples match its payload schema, every public event type has its
 * message, and the schemas are no formality (a record the consumer refuses, or a public event the document does
 * not describe, does not match). The records the services publish are checked where their tests read them:
 * {@code security.KafkaApplicationRecordsAttackTest} here, and every public event a {@code TopicProbe} reads.
 */
class AsyncApiContractTest {

    private static final Set<String> MESSAGES = Set.of(
            "documentSubmitted", "documentResult", "deadLetter", "inferenceRequest", "inferenceResult", "applicationEvent",
            "documentIndexed", "documentFailed", "documentDeleted", "modelLoaded", "modelUnloaded", "alertTriggered",
            "alertResolved", "usageThreshold", "webhookExhausted");

    @Test
    void everyExampleMatchesItsMessagesSchema() {
        JsonNode messages = AsyncApiContract.document().path("components").path("messages");
        assertEquals(new TreeSet<>(MESSAGES), names(messages));
        int examples = 0;
        for (String name : MESSAGES) {
            JsonNode message = messages.path(name);
            String ref = message.path("payload").path("$ref").asText();
            assertTrue(ref.startsWith("#/components/schemas/"), name + " has no payload schema");
            assertFalse(message.path("examples").isEmpty(), name + " has no example");
            for (JsonNode example : message.path("examples")) {
                AsyncApiContract.assertValid(ref.substring("#/components/schemas/".length()), example.path("payload"));
                examples++;
            }
        }
        assertEquals(20, examples);
    }

    /** The public topic's channel: one message per type webhooks deliver, named by it, nothing else. */
    @Test
    void everyPublicEventTypeHasItsMessageOnThePublicTopic() {
        JsonNode channel = AsyncApiContract.document().path("channels").path("publicEvents");
        assertEquals(Topics.PUBLIC_EVENTS, channel.path("address").asText());
        Set<String> types = new TreeSet<>();
        for (JsonNode ref : channel.path("messages")) {
            String type = message(ref).path("name").asText();
            assertTrue(types.add(type), "two messages for " + type);
        }
        assertEquals(new TreeSet<>(EventTypes.PUBLIC), types);
    }

    /** Each public example passes as a record of the topic, as a probe reads it: key = subject, no header. */
    @Test
    void thePublicExamplesPassAsRecordsAndWhatTheDocumentDoesNotSayDoesNot() {
        JsonNode channel = AsyncApiContract.document().path("channels").path("publicEvents");
        for (JsonNode ref : channel.path("messages")) {
            for (JsonNode example : message(ref).path("examples")) {
                JsonNode event = example.path("payload");
                AsyncApiContract.assertPublished(record(event.path("subject").asText(), event.toString(), new RecordHeaders()));
            }
        }
        ObjectNode indexed = (ObjectNode) message(channel.path("messages").path("documentIndexed"))
                .path("examples").get(0).path("payload").deepCopy();
        String key = indexed.path("subject").asText();

        ObjectNode unknown = indexed.deepCopy().put("type", "document.archived"); // a new type, not described
        assertRefused(record(key, unknown.toString(), new RecordHeaders()), "which no message");
        ObjectNode snake = indexed.deepCopy(); // the webhooks' form is not the topic's
        ((ObjectNode) snake.get("data")).set("document_id", ((ObjectNode) snake.get("data")).remove("documentId"));
        assertRefused(record(key, snake.toString(), new RecordHeaders()), "payload");
        ObjectNode extra = indexed.deepCopy(); // a field added to the record without the document
        ((ObjectNode) extra.get("data")).put("ownerKey", "ops");
        assertRefused(record(key, extra.toString(), new RecordHeaders()), "payload");
        assertRefused(record(key, indexed.deepCopy().put("source", "/osfria/embed-service").toString(), new RecordHeaders()),
                "payload");
        assertRefused(record("another-key", indexed.toString(), new RecordHeaders()), "is not the event's subject");
        RecordHeaders headers = new RecordHeaders();
        headers.add("ce_type", "document.indexed".getBytes(StandardCharsets.UTF_8));
        assertRefused(record(key, indexed.toString(), headers), "headers");
        assertRefused(record(key, "not json", new RecordHeaders()), "not JSON");
    }

    @Test
    void aSubmissionWithAnUnknownFieldOrNoFileDoesNotMatch() {
        ObjectNode example = (ObjectNode) AsyncApiContract.document().path("components").path("messages")
                .path("documentSubmitted").path("examples").get(0).path("payload").deepCopy();
        ((ObjectNode) example.get("data")).put("api_key", "sk-osfria-not-here");
        assertThrows(AssertionError.class, () -> AsyncApiContract.assertValid("DocumentSubmitted", example));
        ((ObjectNode) example.get("data")).remove("api_key");
        AsyncApiContract.assertValid("DocumentSubmitted", example);
        ((ObjectNode) example.get("data")).remove("file_base64");
        assertThrows(AssertionError.class, () -> AsyncApiContract.assertValid("DocumentSubmitted", example));
    }

    @Test
    void anApplicationEventOutsideAnApplicationsPrefixOrWithAnExtraAttributeDoesNotMatch() {
        ObjectNode example = (ObjectNode) AsyncApiContract.document().path("components").path("messages")
                .path("applicationEvent").path("examples").get(0).path("payload").deepCopy();
        AsyncApiContract.assertValid("ApplicationEvent", example);
        for (String type : new String[] {"document.indexed", "app.billing", "app.Billing.invoice.created", "app.billing.%"}) {
            ObjectNode forged = example.deepCopy().put("type", type);
            assertThrows(AssertionError.class, () -> AsyncApiContract.assertValid("ApplicationEvent", forged), type);
        }
        ObjectNode extra = example.deepCopy().put("api_key", "sk-osfria-not-here");
        assertThrows(AssertionError.class, () -> AsyncApiContract.assertValid("ApplicationEvent", extra));
    }

    private static void assertRefused(ConsumerRecord<String, String> record, String because) {
        AssertionError e = assertThrows(AssertionError.class, () -> AsyncApiContract.assertPublished(record), record.value());
        assertTrue(e.getMessage().contains(because), e.getMessage());
    }

    private static ConsumerRecord<String, String> record(String key, String value, RecordHeaders headers) {
        return new ConsumerRecord<>(Topics.PUBLIC_EVENTS, 0, 0L, 0L, TimestampType.CREATE_TIME, -1, -1, key, value,
                headers, Optional.empty());
    }

    private static JsonNode message(JsonNode ref) {
        return AsyncApiContract.document().at(ref.path("$ref").asText().substring(1));
    }

    private static Set<String> names(JsonNode node) {
        Set<String> set = new TreeSet<>();
        node.fieldNames().forEachRemaining(set::add);
        return set;
    }
}
