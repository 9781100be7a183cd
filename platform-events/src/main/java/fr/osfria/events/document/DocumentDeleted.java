package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;

/** Public {@code document.deleted}; the index drops the document's chunks when it sees it. */
public record DocumentDeleted(
        @NotBlank String documentId,
        String filename,
        @NotBlank String collection) {
}
