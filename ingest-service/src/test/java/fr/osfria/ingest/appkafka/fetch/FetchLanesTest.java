package fr.osfria.ingest.appkafka.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Each application's fetches: bounded at once, bounded waiting, and never in another application's way. */
class FetchLanesTest {

    /** Jobs that end when the test says so. */
    private final List<UniEmitter<? super Void>> running = new CopyOnWriteArrayList<>();
    private final AtomicInteger started = new AtomicInteger();

    private Uni<Void> job() {
        return Uni.createFrom().emitter(e -> {
            started.incrementAndGet();
            running.add(e);
        });
    }

    private void endOne() {
        running.remove(0).complete(null);
    }

    @Test
    void atMostInFlightRunAndTheWaitingStartAsOthersEnd() {
        FetchLanes lanes = new FetchLanes(2, 3);
        for (int i = 0; i < 5; i++) {
            assertTrue(lanes.offer("a", this::job));
        }
        assertEquals(2, started.get());
        assertFalse(lanes.offer("a", this::job), "a sixth waits beyond the bound: refused at once");
        endOne();
        assertEquals(3, started.get());
        endOne();
        endOne();
        assertEquals(5, started.get());
        assertTrue(lanes.offer("a", this::job), "room again");
    }

    @Test
    void oneApplicationsSlowFetchesDoNotHoldAnother() {
        FetchLanes lanes = new FetchLanes(1, 1);
        assertTrue(lanes.offer("slow", this::job));
        assertTrue(lanes.offer("slow", this::job));
        assertFalse(lanes.offer("slow", this::job));
        assertTrue(lanes.offer("other", this::job));
        assertEquals(2, started.get(), "the other application's fetch started at once");
    }

    @Test
    void aJobThatFailsFreesItsPlace() {
        FetchLanes lanes = new FetchLanes(1, 0);
        List<String> ran = new ArrayList<>();
        assertTrue(lanes.offer("a", () -> Uni.createFrom().failure(new IllegalStateException("boom"))));
        assertTrue(lanes.offer("a", () -> {
            ran.add("second");
            return Uni.createFrom().voidItem();
        }));
        assertEquals(List.of("second"), ran);
    }
}
