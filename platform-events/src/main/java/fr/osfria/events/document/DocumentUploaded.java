package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;
import java.util.Map;

/** Internal: a stored document (or a new version) waits to be parsed and chunked. */
public record DocumentUploaded(
        @NotBlank String documentId,
        int version,
        @NotBlank String collection,
        String filename,
        @NotBlank String blobKey,
        long sizeBytes,
        boolean confidential,
        Map<String, Object> metadata) {
}
