package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;

/** Public {@code document.failed}, with an error a person understands. */
public record DocumentFailed(
        @NotBlank String documentId,
        String filename,
        @NotBlank String collection,
        @NotBlank String error) {
}
