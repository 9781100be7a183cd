package fr.osfria.ingest.document.service;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The upload memory is given in turn; a key flooding it with large confidential files used to queue them all ahead
 * of everyone else's. Another key's upload now waits behind at most one of that key's.
 */
class UploadMemoryTest {

    private static final long BUDGET = 10 * 1024;

    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<String> order = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void anotherKeysUploadWaitsBehindAtMostOneOfAFloodingKeys() throws Exception {
        UploadMemory memory = new UploadMemory(BUDGET);
        CountDownLatch firstHeld = new CountDownLatch(1);
        Future<?> first = hold(memory, "a", "a1", firstHeld);
        await().atMost(Duration.ofSeconds(10)).until(() -> order.contains("a1"));
        List<Future<?>> flood = new ArrayList<>();
        for (int i = 2; i <= 4; i++) {
            flood.add(hold(memory, "a", "a" + i, null));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> memory.waiting() == 1); // one of a's in the queue, the rest behind it
        Future<?> other = hold(memory, "b", "b1", null);
        await().atMost(Duration.ofSeconds(10)).until(() -> memory.waiting() == 2);

        firstHeld.countDown();
        first.get(10, TimeUnit.SECONDS);
        other.get(10, TimeUnit.SECONDS);
        for (Future<?> f : flood) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertEquals("b1", order.get(2), "b's upload came right after a's first waiting one: " + order);
        assertTrue(memory.maxInUseBytes() <= BUDGET, "never more than the budget at once");
    }

    @Test
    void withRoomNobodyWaits() throws Exception {
        UploadMemory memory = new UploadMemory(BUDGET);
        assertEquals("done", memory.holding("a", 1024, () -> memory.holding("a", 1024, () -> "done")),
                "an upload of a key that already holds room gets more while there is some");
    }

    /** {@code owner}'s upload taking the whole budget; it ends when {@code release} opens (at once when null). */
    private Future<?> hold(UploadMemory memory, String owner, String name, CountDownLatch release) {
        return threads.submit(() -> memory.holding(owner, BUDGET, () -> {
            order.add(name);
            if (release != null) {
                release.await(10, TimeUnit.SECONDS);
            }
            return null;
        }));
    }
}
