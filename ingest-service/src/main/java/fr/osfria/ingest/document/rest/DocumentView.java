package fr.osfria.ingest.document.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import fr.osfria.ingest.document.Document;
import fr.osfria.ingest.document.DocumentStatus;
import java.time.Instant;
import java.util.Map;

/** A document as the API shows it (the seed's shape). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DocumentView(
        @JsonProperty("document_id") String documentId,
        String filename,
        DocumentStatus status,
        @JsonProperty("chunks_count") int chunksCount,
        @JsonProperty("chunks_indexed") int chunksIndexed,
        String collection,
        Map<String, Object> metadata,
        @JsonProperty("content_type") String contentType,
        int version,
        @JsonProperty("upload_time") Instant uploadTime,
        String error) {

    /** {@code filename} and {@code metadata} as the reader sees them (opened when the document is confidential). */
    public static DocumentView of(Document doc, String filename, Map<String, Object> metadata) {
        return new DocumentView(doc.id, filename, doc.status, doc.chunksCount, doc.chunksIndexed, doc.collection,
                metadata, doc.contentType, doc.contentVersion, doc.uploadTime, doc.error);
    }
}
