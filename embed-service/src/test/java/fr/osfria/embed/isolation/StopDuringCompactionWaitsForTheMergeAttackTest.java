package fr.osfria.embed.isolation;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.embed.index.IndexedChunk;
import fr.osfria.embed.index.LuceneStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop (`./osfria down`, Ctrl-C, a pod's SIGTERM) while the idle compaction merges the index: closing the store
 * waited for the merge to end (IndexWriter.close waits for merges, and Lucene 9.12 cannot abort one while it builds
 * its vector graph), minutes on a large index, well past the 15 s the launcher gives a service before it kills it,
 * with the writes since the last commit lost. Now close() waits its patience at most, commits every write, and
 * leaves the merge to the process's exit.
 */
class StopDuringCompactionWaitsForTheMergeAttackTest {

    private static final int DIM = 32;

    @TempDir
    Path dir;

    @Test
    void closingDuringACompactionReturnsAtOnceWithEveryWriteCommitted() throws Exception {
        Random random = new Random(5);
        try (LuceneStore plain = new LuceneStore(dir, "m", DIM)) {
            for (int segment = 0; segment < 3; segment++) { // three equal segments: their merge inserts 1,000 vectors
                write(plain, random, "s" + segment, 500);
            }
        }
        LuceneStore store = new LuceneStore(dir, "m", DIM, new LuceneStore.Compaction(Duration.ofMillis(100), Duration.ZERO));
        await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(30))
                .until(StopDuringCompactionWaitsForTheMergeAttackTest::merging);
        store.upsert(List.of(TrickleOfWritesRewritesTheWholeIndexAttackTest.chunk("late", 0, 1,
                TrickleOfWritesRewritesTheWholeIndexAttackTest.vector(random, DIM)))); // not committed yet

        store.close();
        assertTrue(merging(), "close() must return while the merge runs, not wait for its end");
        try (FSDirectory directory = FSDirectory.open(dir); DirectoryReader committed = DirectoryReader.open(directory)) {
            assertEquals(1501, committed.numDocs(), "every write, the last one too, is committed");
        }
        await().atMost(Duration.ofMinutes(3)).until(() -> !merging()); // before the directory is removed
    }

    private static boolean merging() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("Lucene Merge Thread"));
    }

    private static void write(LuceneStore store, Random random, String document, int chunks) throws Exception {
        List<IndexedChunk> batch = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            batch.add(TrickleOfWritesRewritesTheWholeIndexAttackTest.chunk(document, i, chunks,
                    TrickleOfWritesRewritesTheWholeIndexAttackTest.vector(random, DIM)));
        }
        store.upsert(batch);
        store.commit();
    }
}
