package fr.osfria.router.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class UsageTotalsTest {

    @Test
    void daysAndMonthsRollOverInTheConfiguredZone() {
        UsageTotals totals = new UsageTotals(ZoneId.of("Europe/Paris"));
        // 23:30 UTC on 31 October is already 1 November in Paris
        UsageTotals.Change a = totals.add("k", Instant.parse("2026-10-31T22:00:00Z"), 10);
        assertEquals("2026-10-31", a.day());
        UsageTotals.Change b = totals.add("k", Instant.parse("2026-10-31T23:30:00Z"), 5);
        assertEquals("2026-11-01", b.day());
        assertEquals("2026-11", b.month());
        assertEquals(0, b.dayBefore());
        assertEquals(0, b.monthBefore());
        assertEquals(5, totals.today("k", Instant.parse("2026-11-01T08:00:00Z")));
        // a late record of October changes nothing current
        totals.add("k", Instant.parse("2026-10-31T12:00:00Z"), 100);
        assertEquals(5, totals.thisMonth("k", Instant.parse("2026-11-02T08:00:00Z")));
        assertEquals(Instant.parse("2026-10-31T23:00:00Z"), totals.monthStart(Instant.parse("2026-11-15T00:00:00Z")));
    }

    @Test
    void theDayClocksGoBackLastsTwentyFiveHours() {
        UsageTotals totals = new UsageTotals(ZoneId.of("Europe/Paris"));
        // 25 October 2026 runs from 22:00 UTC on the 24th to 23:00 UTC on the 25th in Paris
        assertEquals("2026-10-24", totals.add("k", Instant.parse("2026-10-24T21:59:59Z"), 1).day());
        assertEquals("2026-10-25", totals.add("k", Instant.parse("2026-10-24T22:00:00Z"), 1).day());
        assertEquals("2026-10-25", totals.add("k", Instant.parse("2026-10-25T22:59:59Z"), 1).day());
        assertEquals(2, totals.today("k", Instant.parse("2026-10-25T12:00:00Z")));
        assertEquals("2026-10-26", totals.add("k", Instant.parse("2026-10-25T23:00:00Z"), 1).day());
        assertEquals(0, totals.today("k", Instant.parse("2026-10-25T12:00:00Z")));
    }
}
