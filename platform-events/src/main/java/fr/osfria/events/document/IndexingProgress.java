package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;

/**
 * Internal: how far embed-service is with one version of a document, published on the index-results topic after
 * each batch that added chunks of a version not yet complete (type {@code document.chunks-progress}).
 */
public record IndexingProgress(
        @NotBlank String documentId,
        int version,
        int chunksIndexed,
        int totalChunks) {
}
