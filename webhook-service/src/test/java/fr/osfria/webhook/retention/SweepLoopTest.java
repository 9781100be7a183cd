package fr.osfria.webhook.retention;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The loop that runs the sweeps, without a database. */
class SweepLoopTest {

    /** A connection that hangs with no reset used to leave the loop "sweeping" for ever: no sweep ran again. */
    @Test
    void aSweepThatNeverEndsIsGivenUpAndTheNextCallSweepsAgain() {
        AtomicInteger started = new AtomicInteger();
        SweepLoop loop = new SweepLoop("rows", () -> {
            started.incrementAndGet();
            return Uni.createFrom().nothing();
        }, Duration.ofMillis(200));
        loop.soon();
        assertEquals(1, started.get());
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            loop.soon(); // the scheduler's tick
            return started.get() >= 2;
        });
    }

    @Test
    void kindsTakeTurnsWithAPauseAfterEachRound() {
        List<String> ran = new CopyOnWriteArrayList<>();
        AtomicInteger eventsLeft = new AtomicInteger(2); // two full batches of events, then a partial one
        long start = System.nanoTime();
        boolean more = SweepLoop.inTurn(List.of(
                () -> Uni.createFrom().item(() -> {
                    ran.add("deliveries");
                    return 10;
                }),
                () -> Uni.createFrom().item(() -> {
                    ran.add("events");
                    return eventsLeft.getAndDecrement() > 0 ? 10 : 3;
                })), 10, 4, Duration.ofMillis(100)).await().atMost(Duration.ofSeconds(5));
        long elapsed = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(more, "deliveries were left after 4 rounds");
        assertEquals(List.of("deliveries", "events", "deliveries", "events", "deliveries", "events", "deliveries"), ran);
        assertTrue(elapsed >= 400, "a pause after each of the 4 rounds: " + elapsed + " ms");
    }
}
