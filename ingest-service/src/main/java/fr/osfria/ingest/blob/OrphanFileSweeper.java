package fr.osfria.ingest.blob;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.document.repository.DocumentRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.unchecked.Unchecked;
import io.smallrye.mutiny.unchecked.UncheckedSupplier;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Removes the files no document references, so that a crash (SIGKILL between writing an original and committing its
 * row, or mid-write) does not fill the disk with files nobody can see or delete: originals whose key no row holds
 * and temporary files of interrupted writes, not written for {@code file-sweep.grace} (1 h), and never one of an
 * upload still pending in this service
 * ({@link BlobStore#pending}). A file is removed only once the database has answered that no row references it: when
 * it cannot be asked, nothing is removed. Request bodies left in the uploads directory (a connection reset
 * mid-upload, a crash) go after {@code file-sweep.body-grace} (10 min), checked every minute.
 */
@ApplicationScoped
public class OrphanFileSweeper {

    private static final int BATCH = 500;

    private final BlobStore blobs;
    private final DocumentRepository documents;
    private final Vertx vertx;
    private final Duration grace;
    private final Duration bodyGrace;
    private final Path uploads;
    private final Counter removed;

    public OrphanFileSweeper(BlobStore blobs, DocumentRepository documents, Vertx vertx, IngestConfig config,
                             @ConfigProperty(name = "quarkus.http.body.uploads-directory") String uploads, MeterRegistry metrics) {
        this.blobs = blobs;
        this.documents = documents;
        this.vertx = vertx;
        this.grace = config.fileSweep().grace();
        this.bodyGrace = config.fileSweep().bodyGrace();
        this.uploads = Path.of(uploads);
        this.removed = Counter.builder("osfria.ingest.orphan.files.removed")
                .description("Files no document referenced, removed by the sweep").register(metrics);
    }

    @Scheduled(every = "${osfria.ingest.file-sweep.interval}", delayed = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        return sweep().onFailure().invoke(e -> Log.warnf("orphan-file sweep failed, nothing removed: %s", e.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    @Scheduled(every = "${osfria.ingest.file-sweep.body-interval}", delayed = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduledBodies() {
        return sweepBodies().onFailure().invoke(e -> Log.warnf("request-body sweep failed: %s", e.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /**
     * Request bodies of connections reset mid-upload (the HTTP layer never removes them: a key holder could fill the
     * disk with aborted uploads) or of a killed service; how many it removed.
     */
    public Uni<Integer> sweepBodies() {
        return blocking(() -> removeOldUploads(Instant.now().minus(bodyGrace))).invoke(n -> {
            removed.increment(n);
            if (n > 0) {
                Log.infof("removed %d request bodies of aborted uploads", n);
            }
        });
    }

    /** One pass; how many files it removed. */
    public Uni<Integer> sweep() {
        Instant before = Instant.now().minus(grace);
        return blocking(() -> blobs.stale(before)).chain(stale -> {
            int[] count = {0};
            return Multi.createFrom().iterable(batches(stale.keys()))
                    .onItem().transformToUniAndConcatenate(batch -> Panache.withSession(() -> documents.referencedBlobKeys(batch))
                            .chain(referenced -> blocking(() -> removeUnreferenced(batch, referenced, before))))
                    .onItem().invoke(n -> count[0] += n)
                    .collect().last()
                    .chain(() -> blocking(() -> removeLeftovers(stale)))
                    .map(n -> count[0] + n);
        }).invoke(n -> {
            removed.increment(n);
            if (n > 0) {
                Log.infof("removed %d files no document references (left by a crash or an interrupted upload)", n);
            }
        });
    }

    private int removeUnreferenced(List<String> keys, Set<String> referenced, Instant before) throws IOException {
        int n = 0;
        for (String key : keys) {
            if (!referenced.contains(key) && blobs.deleteIfStale(key, before)) {
                n++;
                blobs.removeIfEmpty(key.substring(0, key.indexOf('/')));
            }
        }
        return n;
    }

    /** Temporary files of interrupted writes, and the directories they or a crash left empty. */
    private int removeLeftovers(BlobStore.Stale stale) throws IOException {
        int n = removeAll(stale.leftovers());
        stale.leftovers().forEach(f -> blobs.removeIfEmpty(f.getParent().getFileName().toString()));
        stale.emptyDirectories().forEach(blobs::removeIfEmpty);
        return n;
    }

    private static int removeAll(List<Path> files) throws IOException {
        int n = 0;
        for (Path file : files) {
            n += Files.deleteIfExists(file) ? 1 : 0;
        }
        return n;
    }

    /** Request bodies the HTTP layer wrote and never removed (the service was killed during the request). */
    private int removeOldUploads(Instant before) throws IOException {
        if (!Files.isDirectory(uploads)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(uploads)) {
            return removeAll(files.filter(f -> isOlder(f, before)).toList());
        }
    }

    private static boolean isOlder(Path file, Instant before) {
        try {
            return Files.isRegularFile(file) && Files.getLastModifiedTime(file).toInstant().isBefore(before);
        } catch (IOException e) {
            return false; // removed meanwhile
        }
    }

    private static List<List<String>> batches(List<String> keys) {
        return Stream.iterate(0, i -> i < keys.size(), i -> i + BATCH)
                .map(i -> keys.subList(i, Math.min(keys.size(), i + BATCH))).toList();
    }

    private <T> Uni<T> blocking(UncheckedSupplier<T> work) {
        return vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(work)));
    }
}
