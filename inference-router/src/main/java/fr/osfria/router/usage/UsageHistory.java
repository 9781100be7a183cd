package fr.osfria.router.usage;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Tokens and requests per key and day of the quota zone, over the last {@link #DAYS} days, for {@code GET /v1/usage}.
 * Fed by the same tallies as the quota totals (the ledger replays the topic from the earlier of the month's start
 * and the first day kept), so what it shows is what quotas count. Older days are dropped as new ones arrive: memory
 * stays at most {@link #DAYS} entries per key.
 */
public final class UsageHistory {

    /** Days kept, today included; the tallies topic keeps 40 days. */
    public static final int DAYS = 31;

    /** One key's usage on one day. */
    public record Day(LocalDate date, long tokens, long requests) {
    }

    private final ZoneId zone;
    private final Map<String, TreeMap<LocalDate, long[]>> byKey = new HashMap<>();

    public UsageHistory(ZoneId zone) {
        this.zone = zone;
    }

    public ZoneId zone() {
        return zone;
    }

    public LocalDate today(Instant now) {
        return now.atZone(zone).toLocalDate();
    }

    /** The first day kept on {@code now}'s day. */
    public LocalDate firstDay(Instant now) {
        return today(now).minusDays(DAYS - 1L);
    }

    /** Where a replay must begin to fill every day kept. */
    public Instant replayStart(Instant now) {
        return firstDay(now).atStartOfDay(zone).toInstant();
    }

    synchronized void add(String key, Instant time, long tokens, long requests) {
        LocalDate day = time.atZone(zone).toLocalDate();
        TreeMap<LocalDate, long[]> days = byKey.computeIfAbsent(key, k -> new TreeMap<>());
        long[] sum = days.computeIfAbsent(day, d -> new long[2]);
        sum[0] += tokens;
        sum[1] += requests;
        // forget what fell out of the window, counted from today: a tally dated ahead (a clock set wrong) must not
        // wipe the key's real days
        days.headMap(LocalDate.now(zone).minusDays(DAYS - 1L)).clear();
    }

    /** The key's days from {@code from} to {@code to} (inclusive), each day present, zero when unused. */
    public synchronized List<Day> days(String key, LocalDate from, LocalDate to) {
        TreeMap<LocalDate, long[]> days = byKey.getOrDefault(key, new TreeMap<>());
        List<Day> result = new ArrayList<>();
        for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
            long[] sum = days.get(d);
            result.add(new Day(d, sum == null ? 0 : sum[0], sum == null ? 0 : sum[1]));
        }
        return result;
    }

    /** Keys with usage on a day from {@code from} to {@code to}. */
    public synchronized Set<String> keysUsedBetween(LocalDate from, LocalDate to) {
        Set<String> keys = new TreeSet<>();
        byKey.forEach((key, days) -> {
            if (!days.subMap(from, true, to, true).isEmpty()) {
                keys.add(key);
            }
        });
        return keys;
    }
}
