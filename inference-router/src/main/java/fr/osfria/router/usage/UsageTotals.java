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

    /** A day or month of the zone, as text, with the instants it spans: most records fall in the last one seen. */
    private record Window(String name, long fromSecond, long toSecond) {
        boolean contains(Instant t) {
            return t.getEpochSecond() >= fromSecond && t.getEpochSecond() < toSecond;
        }
    }

    private final ZoneId zone;
    private final Map<String, Totals> byKey = new HashMap<>();
    private Window lastDay = new Window("", 0, 0);
    private Window lastMonth = new Window("", 0, 0);

    public UsageTotals(ZoneId zone) {
        this.zone = zone;
    }

    public synchronized Change add(String key, Instant time, long tokens) {
        String day = day(time);
        String month = month(time);
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
        return t != null && t.day.equals(day(now)) ? t.dayTokens : 0;
    }

    public synchronized long thisMonth(String key, Instant now) {
        Totals t = byKey.get(key);
        return t != null && t.month.equals(month(now)) ? t.monthTokens : 0;
    }

    private String day(Instant time) {
        if (!lastDay.contains(time)) {
            lastDay = dayOf(time);
        }
        return lastDay.name();
    }

    private String month(Instant time) {
        if (!lastMonth.contains(time)) {
            lastMonth = monthOf(time);
        }
        return lastMonth.name();
    }

    private Window dayOf(Instant time) {
        ZonedDateTime start = time.atZone(zone).toLocalDate().atStartOfDay(zone);
        return new Window(DAY.format(start), start.toEpochSecond(),
                start.toLocalDate().plusDays(1).atStartOfDay(zone).toEpochSecond());
    }

    private Window monthOf(Instant time) {
        ZonedDateTime start = time.atZone(zone).toLocalDate().withDayOfMonth(1).atStartOfDay(zone);
        return new Window(MONTH.format(start), start.toEpochSecond(),
                start.toLocalDate().plusMonths(1).atStartOfDay(zone).toEpochSecond());
    }

    public synchronized void clear() {
        byKey.clear();
    }

    /** Start of the month containing {@code now}: where a replay of the usage topic begins. */
    public Instant monthStart(Instant now) {
        return Instant.ofEpochSecond(monthOf(now).fromSecond());
    }

    public long secondsToEndOfDay(Instant now) {
        return Math.max(1, dayOf(now).toSecond() - now.getEpochSecond());
    }

    public long secondsToEndOfMonth(Instant now) {
        return Math.max(1, monthOf(now).toSecond() - now.getEpochSecond());
    }
}
