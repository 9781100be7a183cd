package fr.osfria.router.usage;

import fr.osfria.events.usage.UsageRecord;
import fr.osfria.events.usage.UsageTally;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sums usage records per key and minute until they are sent as {@link UsageTally}s. A minute lies within one day
 * and one month of any time zone (zone offsets are whole minutes), so quota readers put a tally in the same windows
 * as each of its records. Used by one thread.
 */
final class UsageTallies {

    private record Slot(String keyName, Instant minute) {
    }

    private final Map<Slot, long[]> sums = new LinkedHashMap<>();

    void add(UsageRecord record) {
        Instant time = record.time() != null ? record.time() : Instant.now();
        long[] sum = sums.computeIfAbsent(new Slot(record.keyName(), time.truncatedTo(ChronoUnit.MINUTES)),
                s -> new long[2]);
        sum[0] += record.totalTokens();
        sum[1]++;
    }

    /** What was added since the last call, one tally per key and minute, and forgets it. */
    List<UsageTally> drain() {
        List<UsageTally> tallies = new ArrayList<>(sums.size());
        sums.forEach((slot, sum) -> tallies.add(new UsageTally(slot.keyName(), slot.minute(), sum[0], sum[1])));
        sums.clear();
        return tallies;
    }
}
