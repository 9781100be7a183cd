package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;

/** Public {@code document.indexed}: the document is searchable. */
public record DocumentIndexed(
        @NotBlank String documentId,
        String filename,
        @NotBlank String collection,
        int chunksCount,
        long processingTimeMs) {
}
