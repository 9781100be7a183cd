package fr.osfria.router.usage;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;

/**
 * Tokens used per key in the current day and month of a time zone. Old windows are forgotten as records of a newer
 * one arrive, so memory stays one entry per key.
 */
public final class UsageTotals {

    public static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd");
    public static final DateTimeFormatter MONTH = DateTimeFormatter.ofPattern("yyyy-MM");

    /** What one record changed: totals before and after it, in the windows it falls in. */
    public record Change(String day, long dayBefore, long dayAfter, String month, long monthBefore, long monthAfter) {
    }

    private static final class Totals {
        String day = "";
        long dayTokens;
        String month = "";
        long monthTokens;
    }

    private final ZoneId zone;
    private final Map<String, Totals> byKey = new HashMap<>();

    public UsageTotals(ZoneId zone) {
        this.zone = zone;
    }

    public synchronized Change add(String key, Instant time, long tokens) {
        ZonedDateTime at = time.atZone(zone);
        String day = DAY.format(at);
        String month = MONTH.format(at);
        Totals t = byKey.computeIfAbsent(key, k -> new Totals());
        if (day.compareTo(t.day) > 0) {
            t.day = day;
            t.dayTokens = 0;
        }
        if (month.compareTo(t.month) > 0) {
            t.month = month;
            t.monthTokens = 0;
        }
        // a late record of a past window changes nothing current
        long dayBefore = day.equals(t.day) ? t.dayTokens : 0;
        long monthBefore = month.equals(t.month) ? t.monthTokens : 0;
        if (day.equals(t.day)) {
            t.dayTokens += tokens;
        }
        if (month.equals(t.month)) {
            t.monthTokens += tokens;
        }
        return new Change(day, dayBefore, dayBefore + tokens, month, monthBefore, monthBefore + tokens);
    }

    /** Tokens the key used today (in this zone). */
    public synchronized long today(String key, Instant now) {
        Totals t = byKey.get(key);
        return t != null && t.day.equals(DAY.format(now.atZone(zone))) ? t.dayTokens : 0;
    }

    public synchronized long thisMonth(String key, Instant now) {
        Totals t = byKey.get(key);
        return t != null && t.month.equals(MONTH.format(now.atZone(zone))) ? t.monthTokens : 0;
    }

    public synchronized void clear() {
        byKey.clear();
    }

    /** Start of the month containing {@code now}: where a replay of the usage topic begins. */
    public Instant monthStart(Instant now) {
        return now.atZone(zone).withDayOfMonth(1).toLocalDate().atStartOfDay(zone).toInstant();
    }

    public long secondsToEndOfDay(Instant now) {
        ZonedDateTime next = now.atZone(zone).toLocalDate().plusDays(1).atStartOfDay(zone);
        return Math.max(1, next.toEpochSecond() - now.getEpochSecond());
    }

    public long secondsToEndOfMonth(Instant now) {
        ZonedDateTime next = now.atZone(zone).toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay(zone);
        return Math.max(1, next.toEpochSecond() - now.getEpochSecond());
    }
}
