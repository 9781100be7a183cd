package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.blob.BlobStore;
import fr.osfria.ingest.blob.OrphanFileSweeper;
import fr.osfria.ingest.document.service.DocumentService;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * ingest-service killed (SIGKILL) between writing an original and committing its row, or in the middle of writing
 * it or of receiving a request body, leaves files that no document references: nobody could see or delete them.
 * Here they are left exactly as such a crash leaves them (an original without its row, a temporary file of an
 * interrupted write, a request body in the uploads directory), older than the sweep's grace period; the sweep removes
 * them, and keeps what a committed document, an upload in flight or a recent write still needs.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
class CrashLeftoverFilesAreSweptTest {

    private static final Path BLOBS = Path.of("target/test-data/blobs");
    private static final Path UPLOADS = Path.of("target/test-data/uploads");
    private static final FileTime TWO_HOURS_AGO = FileTime.from(Instant.now().minus(Duration.ofHours(2)));

    @Inject
    OrphanFileSweeper sweeper;

    @Inject
    BlobStore blobs;

    @Test
    void filesACrashLeftAreRemovedAndNothingStillNeededIs() throws Throwable {
        byte[] content = ("Procédure de clôture " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        String kept = upload(TestKeys.FINANCE, "cloture.txt", content, KB, "{\"department\":\"finance\"}").statusCode(202)
                .extract().path("document_id");
        Path keptFile;
        try (var files = Files.list(BLOBS.resolve(kept))) {
            keptFile = files.findFirst().orElseThrow(); // v1-<random>: each write has a file of its own
        }
        Files.setLastModifiedTime(keptFile, TWO_HOURS_AGO);
        // a crash after a new version's file was written, before its row was committed (the row still says v1);
        // files of both name forms: v<n>-<random> as written now, v<n> as written before
        Path keptsNextVersion = leftover(BLOBS.resolve(BlobStore.newKey(kept, 2)));
        Path keptsOldStyleVersion = leftover(BLOBS.resolve(kept).resolve("v3"));

        String orphanId = DocumentService.newId();
        Path orphan = leftover(BLOBS.resolve(orphanId).resolve("v1"));
        Path interruptedWrite = leftover(BLOBS.resolve(DocumentService.newId()).resolve(".upload4242.tmp"));
        Path requestBody = leftover(UPLOADS.resolve("resteasy-reactive42.tmp"));
        Path recentOrphan = Files.createDirectories(BLOBS.resolve(DocumentService.newId())).resolve("v1");
        Files.writeString(recentOrphan, "written a moment ago: its row may be on its way");
        String inFlightId = DocumentService.newId();
        Path inFlight = leftover(BLOBS.resolve(inFlightId).resolve("v1"));
        blobs.pending(BlobStore.key(inFlightId, 1));
        try {
            VertxContextSupport.subscribeAndAwait(() -> sweeper.sweep());
            VertxContextSupport.subscribeAndAwait(() -> sweeper.sweepBodies());
        } finally {
            blobs.settled(BlobStore.key(inFlightId, 1));
        }

        assertFalse(Files.exists(orphan), "an original without its row");
        assertFalse(Files.exists(orphan.getParent()), "its document's directory");
        assertFalse(Files.exists(keptsNextVersion), "a version whose row was never committed");
        assertFalse(Files.exists(keptsOldStyleVersion), "an old-style name of a version whose row was never committed");
        assertFalse(Files.exists(interruptedWrite), "a temporary file of an interrupted write");
        assertFalse(Files.exists(requestBody), "a request body the HTTP layer never removed");
        assertTrue(Files.exists(recentOrphan), "a file younger than the grace period");
        assertTrue(Files.exists(inFlight), "the file of an upload still in flight");
        assertArrayEquals(content, Files.readAllBytes(keptFile), "a committed document's original");
    }

    /** A file as a crash leaves it: written, then untouched for two hours. */
    private static Path leftover(Path file) throws Exception {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "left by a crash");
        Files.setLastModifiedTime(file, TWO_HOURS_AGO);
        return file;
    }
}
