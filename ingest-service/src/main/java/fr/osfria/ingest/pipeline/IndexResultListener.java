package fr.osfria.ingest.pipeline;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.document.ChunksIndexed;
import fr.osfria.events.document.IndexingProgress;
import fr.osfria.ingest.document.service.DocumentService;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * embed-service's word on a document's chunks: progress (how many are indexed so far), then the verdict (indexed,
 * or failed with a reason). A record that cannot be read or applied goes to the dead-letter topic; the rest go on.
 * While the database is out of reach, a record waits for it ({@link WhileDatabaseDown}).
 */
@ApplicationScoped
public class IndexResultListener {

    public static final String INDEX_RESULTS = "index-results";

    private final DocumentService service;
    private final DocumentStages stages;

    public IndexResultListener(DocumentService service, DocumentStages stages) {
        this.service = service;
        this.stages = stages;
    }

    @Incoming(INDEX_RESULTS)
    public Uni<Void> onResult(String json) {
        // the type first: a progress report read as a verdict would look like a failure
        if (EventTypes.CHUNKS_PROGRESS.equals(EventJson.decode(json, Object.class).type())) {
            IndexingProgress progress = EventJson.decode(json, IndexingProgress.class).data();
            return WhileDatabaseDown.retry("progress of " + progress.documentId(),
                    () -> service.progress(progress.documentId(), progress.version(), progress.chunksIndexed()));
        }
        Instant received = Instant.now();
        CloudEvent<ChunksIndexed> event = EventJson.decode(json, ChunksIndexed.class);
        ChunksIndexed result = event.data();
        return WhileDatabaseDown.retry("index result of " + result.documentId(), () -> service.indexResult(result.documentId(),
                result.version(), result.success(), result.chunksCount(), result.error())
                .invoke(doc -> {
                    if (doc != null && doc.attempts == 1) { // indexed now, at its first attempt: where its time went
                        stages.record(DocumentStages.EMBEDDED, doc.chunkedAt, event.time());
                        stages.record(DocumentStages.RESULT_RECEIVED, event.time(), received);
                        stages.record(DocumentStages.STATUS_UPDATED, received, Instant.now());
                        stages.record(DocumentStages.TOTAL, doc.uploadTime, Instant.now());
                    }
                }).replaceWithVoid());
    }
}
