package fr.osfria.router.usage;

import com.fasterxml.jackson.annotation.JsonProperty;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import fr.osfria.security.rights.Caller;
import fr.osfria.security.rights.Rights;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code GET /v1/usage}: tokens and requests per day of the quota zone, from the tallies the quotas count, with the
 * key's quotas. A key reads its own usage; admins any key's ({@code key=NAME}) or every key's ({@code key=*}). A
 * user key asking for another name gets the same 404 whether that key exists or not.
 */
@Path("/v1/usage")
@Produces(MediaType.APPLICATION_JSON)
public class UsageResource {

    public static final String ALL = "*";

    public record Quotas(@JsonProperty("daily_tokens") Long dailyTokens, @JsonProperty("monthly_tokens") Long monthlyTokens,
                         @JsonProperty("requests_per_minute") Long requestsPerMinute,
                         @JsonProperty("tokens_per_minute") Long tokensPerMinute) {
        static Quotas of(KeyEntry key) {
            return key == null ? new Quotas(null, null, null, null)
                    : new Quotas(key.dailyTokens(), key.monthlyTokens(), key.requestsPerMinute(), key.tokensPerMinute());
        }
    }

    public record KeyUsage(String key, Quotas quotas, @JsonProperty("used_today") long usedToday,
                           @JsonProperty("used_this_month") long usedThisMonth,
                           @JsonProperty("total_tokens") long totalTokens, @JsonProperty("total_requests") long totalRequests,
                           List<UsageHistory.Day> days) {
    }

    public record UsageList(String object, String zone, LocalDate from, LocalDate to, List<KeyUsage> data) {
    }

    private final Caller caller;
    private final UsageLedger ledger;
    private final KeyRegistry keys;

    public UsageResource(Caller caller, UsageLedger ledger, KeyRegistry keys) {
        this.caller = caller;
        this.ledger = ledger;
        this.keys = keys;
    }

    @GET
    public Response usage(@QueryParam("from") String fromParam, @QueryParam("to") String toParam,
                          @QueryParam("key") String keyParam) {
        KeyEntry me = caller.key();
        String name = keyParam == null || keyParam.isEmpty() ? me.name() : keyParam;
        if (name.equals(ALL) ? !me.admin() : !Rights.canReadUsage(me, name)) {
            // one answer for a key that exists and one that does not, and the name is not echoed back
            return name.equals(ALL)
                    ? ErrorResponses.of(403, "Only admin keys may read the usage of every key", "permission_denied")
                    : ErrorResponses.of(404, "No key of that name is visible to this API key", "key_not_found");
        }
        UsageHistory history = ledger.history();
        Instant now = Instant.now();
        LocalDate today = history.today(now);
        LocalDate first = history.firstDay(now);
        LocalDate to;
        LocalDate from;
        try {
            to = toParam == null || toParam.isEmpty() ? today : LocalDate.parse(toParam);
            from = fromParam == null || fromParam.isEmpty() ? (to.isBefore(first) ? to : first) : LocalDate.parse(fromParam);
        } catch (DateTimeParseException e) {
            return ErrorResponses.of(400, "from and to are days written YYYY-MM-DD", "invalid_date");
        }
        if (from.isAfter(to)) {
            return ErrorResponses.of(400, "from (" + from + ") is after to (" + to + ")", "invalid_range");
        }
        if (to.isAfter(today) || from.isBefore(first)) {
            return ErrorResponses.of(400, "Usage is kept for " + UsageHistory.DAYS + " days: from and to must lie between "
                    + first + " and " + today + " (" + history.zone() + ")", "invalid_range");
        }
        if (!ledger.caughtUp()) {
            return Response.fromResponse(ErrorResponses.of(503, "The usage is still being read after a start",
                    "usage_unavailable")).header("Retry-After", UsageLedger.UNAVAILABLE_RETRY_SECONDS).build();
        }
        List<String> names;
        if (name.equals(ALL)) {
            Set<String> all = new TreeSet<>(history.keysUsedBetween(from, to));
            keys.state().keys().stream().filter(k -> !k.revoked()).forEach(k -> all.add(k.name()));
            names = List.copyOf(all);
        } else if (name.equals(me.name()) || known(name).isPresent() || history.keysUsedBetween(from, to).contains(name)) {
            names = List.of(name);
        } else {
            return ErrorResponses.of(404, "No key of that name is visible to this API key", "key_not_found");
        }
        LocalDate f = from;
        LocalDate t = to;
        List<KeyUsage> data = names.stream().map(n -> usage(n, f, t, now)).toList();
        return Response.ok(new UsageList("usage", history.zone().getId(), from, to, data)).build();
    }

    private KeyUsage usage(String name, LocalDate from, LocalDate to, Instant now) {
        List<UsageHistory.Day> days = ledger.history().days(name, from, to);
        long[] used = ledger.usedTodayAndThisMonth(name, now);
        return new KeyUsage(name, Quotas.of(known(name).orElse(null)), used[0], used[1],
                days.stream().mapToLong(UsageHistory.Day::tokens).sum(),
                days.stream().mapToLong(UsageHistory.Day::requests).sum(), days);
    }

    /** The key of that name in the key file: the active one, else the last revoked one. */
    private Optional<KeyEntry> known(String name) {
        Optional<KeyEntry> active = keys.active(name);
        if (active.isPresent()) {
            return active;
        }
        KeyEntry found = null;
        for (KeyEntry k : keys.state().keys()) {
            if (k.name().equals(name)) {
                found = k;
            }
        }
        return Optional.ofNullable(found);
    }
}
