package fr.osfria.events.app;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * The data of a Kafka application's record on {@code osfria.app.<name>.documents.v1} (CloudEvent type
 * {@link #TYPE}): one file, inline in base64 or by reference to a URL the operator allows (exactly one of
 * the two), to index as a REST upload would. Described in {@code docs/asyncapi.yaml}.
 *
 * @param correlationId the application's own id for the request, echoed in its result (defaults to the event id)
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record DocumentSubmitted(
        @JsonProperty("correlation_id") String correlationId,
        String collection,
        String filename,
        @JsonProperty("content_type") String contentType,
        Map<String, Object> metadata,
        Boolean confidential,
        @JsonProperty("file_base64") String fileBase64,
        @JsonProperty("file_url") String fileUrl) {

    public static final String TYPE = "fr.osfria.app.document.submitted";
}
