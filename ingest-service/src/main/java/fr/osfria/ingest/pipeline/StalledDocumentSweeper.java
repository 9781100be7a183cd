package fr.osfria.ingest.pipeline;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.document.repository.DocumentRepository;
import fr.osfria.ingest.document.service.DocumentService;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;

/** A document never stays "processing" forever: a stalled one is started again, then marked failed. */
@ApplicationScoped
public class StalledDocumentSweeper {

    private final DocumentRepository documents;
    private final DocumentService service;
    private final IngestConfig.Stall stall;

    public StalledDocumentSweeper(DocumentRepository documents, DocumentService service, IngestConfig config) {
        this.documents = documents;
        this.service = service;
        this.stall = config.stall();
    }

    @Scheduled(every = "${osfria.ingest.stall.check-interval}", delayed = "5s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> sweep() {
        Instant before = Instant.now().minus(stall.timeout());
        return Panache.withSession(() -> documents.stalled(before, 100))
                .onItem().transformToMulti(docs -> Multi.createFrom().iterable(docs))
                .onItem().transformToUniAndConcatenate(doc -> service.retryOrGiveUp(doc.id, stall.maxAttempts()))
                .collect().asList().replaceWithVoid()
                .onFailure().invoke(e -> Log.warnf("stalled-document sweep failed: %s", e.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }
}
