package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;

/**
 * Public {@code document.indexed}: the document is searchable. {@code department} and {@code confidential} are the
 * document's, so that only keys that could read it hear of it.
 */
public record DocumentIndexed(
        @NotBlank String documentId,
        String filename,
        @NotBlank String collection,
        int chunksCount,
        long processingTimeMs,
        String department,
        boolean confidential) {
}
