package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;

/**
 * Internal ({@code document.version-superseded} on the chunks topic): chunks of versions below {@code floor} leave
 * the index and are never indexed again, however late they arrive. A deletion raises the floor to
 * {@link #DELETED}: no version of the document may come back.
 */
public record VersionSuperseded(@NotBlank String documentId, int floor) {

    /** The floor of a deleted document: above every version. */
    public static final int DELETED = Integer.MAX_VALUE;

    public static VersionSuperseded deleted(String documentId) {
        return new VersionSuperseded(documentId, DELETED);
    }

    public boolean deletion() {
        return floor == DELETED;
    }
}
