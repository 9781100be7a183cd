package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;

/**
 * Public {@code document.deleted}; the index drops the document's chunks when it sees it. {@code department} and
 * {@code confidential} are the document's, so that only keys that could read it hear of it.
 */
public record DocumentDeleted(
        @NotBlank String documentId,
        String filename,
        @NotBlank String collection,
        String department,
        boolean confidential) {
}
