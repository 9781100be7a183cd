package fr.osfria.router.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What a record of {@code inference.v1} must be, and which faults are answered (custom_id) or dead-lettered. */
class BatchLineTest {

    private static final String BODY = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @Test
    void anOpenAiBatchLineIsAccepted() throws Exception {
        BatchLine line = BatchLine.parse("{\"custom_id\":\"r-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                + "\"body\":" + BODY + "}", 1000);
        assertEquals("r-1", line.customId());
        assertEquals("/v1/chat/completions", line.url());
        assertEquals(BODY, new String(line.body()));
    }

    @Test
    void withoutACustomIdThereIsNobodyToAnswer() {
        for (String value : new String[] {"{not json", "[1]", "{\"url\":\"/v1/completions\",\"body\":{}}",
                "{\"custom_id\":42,\"body\":{}}", "{\"custom_id\":\"\"}", "{\"custom_id\":\"" + "x".repeat(257) + "\"}"}) {
            assertThrows(BatchLine.Unanswerable.class, () -> BatchLine.parse(value, 1000), value);
            assertNull(BatchLine.customIdOf(value), value);
        }
    }

    @Test
    void everyOtherFaultIsAnsweredForItsCustomId() {
        String[][] cases = {
                {"{\"custom_id\":\"a\",\"url\":\"/v1/embeddings\",\"body\":" + BODY + "}", "invalid_url"},
                {"{\"custom_id\":\"a\",\"url\":\"/v1/chat/completions\",\"method\":\"GET\",\"body\":" + BODY + "}", "invalid_request"},
                {"{\"custom_id\":\"a\",\"url\":\"/v1/chat/completions\",\"body\":\"text\"}", "invalid_request"},
                {"{\"custom_id\":\"a\",\"url\":\"/v1/chat/completions\",\"api_key\":\"sk\",\"body\":" + BODY + "}", "invalid_request"},
                {"{\"custom_id\":\"a\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"stream\":true}}", "invalid_request"},
                {"{\"custom_id\":\"a\",\"url\":\"/v1/completions\",\"body\":{\"model\":\"m\",\"prompt\":\"" + "y".repeat(1000) + "\"}}", "request_too_large"},
        };
        for (String[] c : cases) {
            BatchLine.Refused refused = assertThrows(BatchLine.Refused.class, () -> BatchLine.parse(c[0], 1000), c[0]);
            assertEquals("a", refused.customId, c[0]);
            assertEquals(c[1], refused.code, c[0] + ": " + refused.getMessage());
        }
        assertTrue(assertThrows(BatchLine.Refused.class, () -> BatchLine.parse(cases[4][0], 1000)).getMessage()
                .contains("stream"));
    }
}
