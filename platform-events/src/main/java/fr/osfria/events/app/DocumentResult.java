package fr.osfria.events.app;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The outcome of a submitted document, on {@code osfria.app.<name>.results.v1} (CloudEvent type {@link #TYPE}):
 * {@code accepted} (stored, its document id; processing starts), then {@code indexed}, {@code failed} (parsing or indexing, with the reason), {@code rejected} (the record itself was
 * refused: not readable, over size, no right on the collection…, with the reason; nothing was stored) or
 * {@code duplicate} (the same bytes are already a document of the collection the key may read: its id and status).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DocumentResult(
        String status,
        @JsonProperty("correlation_id") String correlationId,
        @JsonProperty("document_id") String documentId,
        String collection,
        String reason,
        @JsonProperty("document_status") String documentStatus) {

    public static final String TYPE = "fr.osfria.app.document.result";
    public static final String ACCEPTED = "accepted";
    public static final String INDEXED = "indexed";
    public static final String FAILED = "failed";
    public static final String REJECTED = "rejected";
    public static final String DUPLICATE = "duplicate";
}
