package fr.osfria.router.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.events.usage.UsageRecord;
import fr.osfria.events.usage.UsageTally;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class UsageTalliesTest {

    @Test
    void sumsTokensAndRequestsPerKeyAndMinute() {
        UsageTallies tallies = new UsageTallies();
        tallies.add(record("a", 10, "2026-11-30T22:59:59.900Z"));
        tallies.add(record("a", 5, "2026-11-30T22:59:00Z"));
        tallies.add(record("b", 7, "2026-11-30T22:59:30Z"));
        // the next minute is the next day and month in Paris (UTC+1): it must not be added to the one before
        tallies.add(record("a", 1, "2026-11-30T23:00:00.100Z"));

        assertEquals(List.of(new UsageTally("a", Instant.parse("2026-11-30T22:59:00Z"), 15, 2),
                new UsageTally("b", Instant.parse("2026-11-30T22:59:00Z"), 7, 1),
                new UsageTally("a", Instant.parse("2026-11-30T23:00:00Z"), 1, 1)), tallies.drain());
    }

    @Test
    void whatWasSentIsForgotten() {
        UsageTallies tallies = new UsageTallies();
        tallies.add(record("a", 10, "2026-11-30T10:00:00Z"));
        assertEquals(1, tallies.drain().size());
        assertEquals(List.of(), tallies.drain());
        tallies.add(record("a", 3, "2026-11-30T10:00:01Z"));
        assertEquals(List.of(new UsageTally("a", Instant.parse("2026-11-30T10:00:00Z"), 3, 1)), tallies.drain());
    }

    private static UsageRecord record(String key, long tokens, String time) {
        return new UsageRecord("r", key, "m", "b", 1, tokens - 1, tokens, false, "ok", Instant.parse(time));
    }
}
