package fr.osfria.events.app;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The answer to one batch inference request of {@code osfria.app.<name>.inference.v1}, on
 * {@code osfria.app.<name>.results.v1} (CloudEvent type {@link #TYPE}): an OpenAI Batch API output line. Exactly one
 * of {@code response} (what the backend answered: its status and body) and {@code error} (the router refused or could
 * not serve the request: over quota, invalid, no backend) is set; {@code usage} is the tokens charged to the key.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record InferenceResult(
        String id,
        @JsonProperty("custom_id") String customId,
        Response response,
        Error error,
        @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

    public static final String TYPE = "fr.osfria.app.inference.result";

    public record Response(@JsonProperty("status_code") int statusCode, @JsonProperty("request_id") String requestId,
                           JsonNode body) {
    }

    public record Error(String code, String message) {
    }

    public record Usage(@JsonProperty("prompt_tokens") long promptTokens,
                        @JsonProperty("completion_tokens") long completionTokens,
                        @JsonProperty("total_tokens") long totalTokens) {
    }
}
