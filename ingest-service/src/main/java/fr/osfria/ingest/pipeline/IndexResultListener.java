package fr.osfria.ingest.pipeline;

import fr.osfria.events.EventJson;
import fr.osfria.events.document.ChunksIndexed;
import fr.osfria.ingest.document.service.DocumentService;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** embed-service's verdict on a document's chunks: indexed, or failed with a reason. */
@ApplicationScoped
public class IndexResultListener {

    public static final String INDEX_RESULTS = "index-results";

    private final DocumentService service;

    public IndexResultListener(DocumentService service) {
        this.service = service;
    }

    @Incoming(INDEX_RESULTS)
    public Uni<Void> onResult(String json) {
        ChunksIndexed result = EventJson.decode(json, ChunksIndexed.class).data();
        return service.indexResult(result.documentId(), result.version(), result.success(), result.chunksCount(), result.error());
    }
}
