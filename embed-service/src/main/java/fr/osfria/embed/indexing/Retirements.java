package fr.osfria.embed.indexing;

import fr.osfria.embed.index.VectorStore;
import fr.osfria.events.EventJson;
import fr.osfria.events.document.VersionSuperseded;
import java.io.IOException;

/** Applies a {@code document.version-superseded} record: the one way chunks of a document leave the index for good. */
final class Retirements {

    static VersionSuperseded apply(VectorStore store, String payload) throws IOException {
        return apply(store, EventJson.decode(payload, VersionSuperseded.class).data());
    }

    static VersionSuperseded apply(VectorStore store, VersionSuperseded retired) throws IOException {
        if (retired.documentId() == null || retired.documentId().isBlank() || retired.floor() < 1) {
            throw new IllegalArgumentException("version-superseded record without document id or floor");
        }
        store.retire(retired.documentId(), retired.floor());
        return retired;
    }

    private Retirements() {
    }
}
