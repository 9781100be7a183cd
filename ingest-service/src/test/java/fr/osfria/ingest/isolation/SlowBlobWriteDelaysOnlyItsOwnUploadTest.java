package fr.osfria.ingest.isolation;

import static fr.osfria.ingest.IngestTestSupport.KB;
import static fr.osfria.ingest.IngestTestSupport.upload;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.blob.BlobStore;
import fr.osfria.testing.KafkaTestResource;
import fr.osfria.testing.PostgresTestResource;
import fr.osfria.testing.TestKeys;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * One upload whose file takes long to store (a large file on a slow volume) used to hold back every other upload
 * answered by the same event loop: the request path's blocking steps (checking the file, storing it) ran in one queue
 * per event loop, each waiting for the one before it, so about one upload in four waited for a stranger's file. Now
 * each upload's blocking steps wait only for a worker thread: the others are answered while the slow one is still
 * being stored.
 */
@QuarkusTest
@WithTestResource(KafkaTestResource.class)
@WithTestResource(TestKeys.class)
@WithTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "ingest"))
public class SlowBlobWriteDelaysOnlyItsOwnUploadTest {

    /** A file starting so is held by {@link SlowVolume} until {@link SlowVolume#release} opens. */
    public static final String SLOW = "SLOW-TO-STORE ";
    /** A file starting so cannot be stored: {@link SlowVolume} fails it, as a full or broken volume does. */
    static final String FAILS = "FAILS-TO-STORE ";

    /**
     * The real store, except that a file starting with {@link #SLOW} is stored only once {@link #release} opens,
     * and one starting with {@link #FAILS} is not stored at all. On for every test of the module (no profile of its
     * own, whose app would cost the suite a build and a start): no other test's file starts so, and {@link #release}
     * is open unless a test holds it.
     */
    @Alternative
    @Priority(1)
    @Singleton // not proxied: the store has no constructor without arguments to subclass
    public static class SlowVolume extends BlobStore {

        public static final AtomicInteger STORING_SLOW = new AtomicInteger();
        public static volatile CountDownLatch release = new CountDownLatch(0);

        public SlowVolume(IngestConfig config) {
            super(config);
        }

        @Override
        public String put(String key, Path source) throws IOException {
            if (startsWith(source, FAILS)) {
                throw new IOException("the volume refused the file");
            }
            if (startsWith(source, SLOW)) {
                STORING_SLOW.incrementAndGet();
                try {
                    release.await(2, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    STORING_SLOW.decrementAndGet();
                }
            }
            return super.put(key, source);
        }

        private static boolean startsWith(Path source, String prefix) throws IOException {
            try (InputStream in = Files.newInputStream(source)) {
                return new String(in.readNBytes(prefix.length()), StandardCharsets.UTF_8).equals(prefix);
            }
        }
    }

    @Test
    void otherUploadsAreAnsweredWhileOneFileIsStillBeingStored() throws Exception {
        SlowVolume.release = new CountDownLatch(1);
        CompletableFuture<Integer> slow = CompletableFuture.supplyAsync(() -> upload(TestKeys.FINANCE, "archive.txt",
                (SLOW + "le rapport annuel, très long à écrire.").getBytes(StandardCharsets.UTF_8), KB, null)
                .extract().statusCode());
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> SlowVolume.STORING_SLOW.get() == 1);
            // each upload on a connection of its own: the server spreads connections over its event loops in turn,
            // so with eight of them at least one shares the slow upload's event loop whatever their number
            List<CompletableFuture<Integer>> others = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String text = "Note " + i + " : la réunion de direction est avancée à lundi.";
                others.add(CompletableFuture.supplyAsync(() -> upload(TestKeys.HR, "note-" + text.hashCode() + ".txt",
                        text.getBytes(StandardCharsets.UTF_8), KB, null).extract().statusCode()));
            }
            for (CompletableFuture<Integer> other : others) {
                assertEquals(202, other.get(30, TimeUnit.SECONDS), "another key's upload, while the slow file is held");
            }
            assertEquals(1, SlowVolume.STORING_SLOW.get(), "the slow file was still being stored meanwhile");
            assertTrue(!slow.isDone(), "the slow upload is answered only once its file is stored");
        } finally {
            SlowVolume.release.countDown();
        }
        assertEquals(202, slow.get(60, TimeUnit.SECONDS), "the slow upload itself is stored in the end");
    }
}
