package fr.osfria.ingest.appkafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import fr.osfria.testing.AsyncApiContract;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/asyncapi.yaml}: each message's examples match its payload schema, and the schemas are no formality
 * (a record the consumer refuses does not match either). The records the services publish are checked in
 * {@code security.KafkaApplicationRecordsAttackTest}.
 */
class AsyncApiContractTest {

    private static final Map<String, String> SCHEMA_OF = Map.of(
            "documentSubmitted", "DocumentSubmitted", "documentResult", "DocumentResult", "deadLetter", "DeadLetter",
            "inferenceRequest", "InferenceRequest", "inferenceResult", "InferenceResult",
            "applicationEvent", "ApplicationEvent");

    @Test
    void everyExampleMatchesItsMessagesSchema() {
        JsonNode messages = AsyncApiContract.document().path("components").path("messages");
        assertEquals(SCHEMA_OF.keySet(), iterable(messages.fieldNames()));
        int examples = 0;
        for (Map.Entry<String, String> e : SCHEMA_OF.entrySet()) {
            JsonNode message = messages.path(e.getKey());
            assertEquals("#/components/schemas/" + e.getValue(), message.path("payload").path("$ref").asText(), e.getKey());
            assertFalse(message.path("examples").isEmpty(), e.getKey() + " has no example");
            for (JsonNode example : message.path("examples")) {
                AsyncApiContract.assertValid(e.getValue(), example.path("payload"));
                examples++;
            }
        }
        assertEquals(9, examples);
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

    private static java.util.Set<String> iterable(java.util.Iterator<String> names) {
        java.util.Set<String> set = new java.util.TreeSet<>();
        names.forEachRemaining(set::add);
        return set;
    }
}
