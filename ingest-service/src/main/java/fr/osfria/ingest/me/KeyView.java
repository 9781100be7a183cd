package fr.osfria.ingest.me;

import com.fasterxml.jackson.annotation.JsonProperty;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.rights.Rights;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The answer of {@code GET /v1/me}: what the caller's key is and may do. Never its hash, hint or secret. */
public record KeyView(
        String object,
        String name,
        Set<String> roles,
        boolean admin,
        List<String> departments,
        boolean confidential,
        Collections collections,
        Quotas quotas,
        @JsonProperty("created_at") Instant createdAt) {

    /**
     * @param read      collections it may read and search: named by its grant, or holding a document it can see
     * @param write     collections it may upload to: named by its grant, or readable ones it may write
     * @param readAny   whether it may also read collections not listed (a {@code *} grant, admins)
     * @param writeAny  whether it may also upload to collections not listed, new ones included
     * @param truncated whether more collections than these were found
     */
    public record Collections(List<String> read, List<String> write, @JsonProperty("read_any") boolean readAny,
                              @JsonProperty("write_any") boolean writeAny, boolean truncated) {
    }

    /** The key's inference limits ({@code null}: none), as {@code GET /v1/usage} shows them. */
    public record Quotas(@JsonProperty("daily_tokens") Long dailyTokens,
                         @JsonProperty("monthly_tokens") Long monthlyTokens,
                         @JsonProperty("requests_per_minute") Long requestsPerMinute,
                         @JsonProperty("tokens_per_minute") Long tokensPerMinute) {
    }

    static KeyView of(KeyEntry key, List<String> withVisibleDocuments, boolean truncated) {
        return new KeyView("key", key.name(), new TreeSet<>(key.roles()), key.admin(), key.departments(),
                key.admin() || key.confidential(),
                new Collections(List.copyOf(Rights.readableCollections(key, withVisibleDocuments)),
                        List.copyOf(Rights.writableCollections(key, withVisibleDocuments)),
                        Rights.readsEveryCollection(key), Rights.writesEveryCollection(key), truncated),
                new Quotas(key.dailyTokens(), key.monthlyTokens(), key.requestsPerMinute(), key.tokensPerMinute()),
                key.createdAt());
    }
}
