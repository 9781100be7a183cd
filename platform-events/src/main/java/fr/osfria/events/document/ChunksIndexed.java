package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;

/** Internal: embed-service's result for one version of a document. {@code error} is set when indexing failed. */
public record ChunksIndexed(
        @NotBlank String documentId,
        int version,
        int chunksCount,
        boolean success,
        String error) {
}
