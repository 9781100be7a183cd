package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void doublesFromOneSecondUpToThirtyAndStartsOverAfterAStableMinute() {
        Backoff backoff = Backoff.standard();
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            delays.add(backoff.afterDeath(Duration.ofSeconds(5)).toSeconds());
        }
        assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L), delays);
        assertEquals(Duration.ofSeconds(1), backoff.afterDeath(Duration.ofSeconds(60)), "a minute up resets it");
        assertEquals(Duration.ofSeconds(2), backoff.afterDeath(Duration.ofSeconds(59)));
    }
}
