package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;

/**
 * Public {@code document.failed}, with an error a person understands. {@code department} and {@code confidential}
 * are the document's, so that only keys that could read it hear of it.
 */
public record DocumentFailed(
        @NotBlank String documentId,
        String filename,
        @NotBlank String collection,
        @NotBlank String error,
        String department,
        boolean confidential) {
}
