package fr.osfria.security.key;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * One API key as the key file holds it: never the key itself, only its hash.
 *
 * @param name            unique, the caller's name in audit records and usage
 * @param hash            {@code sha256:<hex>} of the key
 * @param hint            a non-secret label ({@code sk-osfria-AbCd…}) to recognise the key in listings
 * @param roles           e.g. {@code admin}, {@code user}, {@code ops} (receives {@code model.*} and {@code alert.*} webhooks)
 * @param readCollections collections the key may read; {@code *} for all
 * @param writeCollections collections the key may write
 * @param departments     departments whose documents the key may see and write; {@code *} for all
 * @param confidential    whether the key may see confidential documents
 * @param dailyTokens     token quota per day, null for none
 * @param monthlyTokens   token quota per month, null for none
 * @param requestsPerMinute inference requests per minute, null for no limit
 * @param tokensPerMinute inference tokens (prompt + completion) per minute, null for no limit
 * @param revokedAt       set when the key was revoked; a revoked key authenticates nobody
 * @param kafka           true for a Kafka application's key ({@code keys create NAME --kafka}): its records arrive
 *                        on the topics {@code osfria.app.NAME.*}, and the services find the key by that NAME; null
 *                        otherwise
 * @param eventTypes      for a Kafka application: the event types it may publish on {@code osfria.app.NAME.events.v1},
 *                        without their prefix ({@code invoice.created} is published as
 *                        {@code app.NAME.invoice.created}); null when it declares none
 * @param fetchFrom       for a Kafka application: the URL prefixes ({@code https://files.billing.internal/exports/})
 *                        it may have files fetched from ({@code file_url}), set by the operator; null for none (see
 *                        {@link fr.osfria.security.rights.Rights#canFetch})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record KeyEntry(
        String name,
        String hash,
        String hint,
        Set<String> roles,
        List<String> readCollections,
        List<String> writeCollections,
        List<String> departments,
        boolean confidential,
        Long dailyTokens,
        Long monthlyTokens,
        Long requestsPerMinute,
        Long tokensPerMinute,
        Instant createdAt,
        Instant revokedAt,
        Boolean kafka,
        List<String> eventTypes,
        List<String> fetchFrom) {

    public static final String ALL = "*";
    public static final String ADMIN = "admin";
    /** Operators: receive the platform's operational events ({@code model.*}, {@code alert.*}) without being admins. */
    public static final String OPS = "ops";

    /** A key that fetches no file by URL (the form every key had before files by URL). */
    public KeyEntry(String name, String hash, String hint, Set<String> roles, List<String> readCollections,
                    List<String> writeCollections, List<String> departments, boolean confidential, Long dailyTokens,
                    Long monthlyTokens, Long requestsPerMinute, Long tokensPerMinute, Instant createdAt,
                    Instant revokedAt, Boolean kafka, List<String> eventTypes) {
        this(name, hash, hint, roles, readCollections, writeCollections, departments, confidential, dailyTokens,
                monthlyTokens, requestsPerMinute, tokensPerMinute, createdAt, revokedAt, kafka, eventTypes, null);
    }

    /** A key that is no Kafka application's (the form every key had before Kafka applications). */
    public KeyEntry(String name, String hash, String hint, Set<String> roles, List<String> readCollections,
                    List<String> writeCollections, List<String> departments, boolean confidential, Long dailyTokens,
                    Long monthlyTokens, Long requestsPerMinute, Long tokensPerMinute, Instant createdAt,
                    Instant revokedAt) {
        this(name, hash, hint, roles, readCollections, writeCollections, departments, confidential, dailyTokens,
                monthlyTokens, requestsPerMinute, tokensPerMinute, createdAt, revokedAt, null);
    }

    /** A key without declared event types (the form every key had before application events). */
    public KeyEntry(String name, String hash, String hint, Set<String> roles, List<String> readCollections,
                    List<String> writeCollections, List<String> departments, boolean confidential, Long dailyTokens,
                    Long monthlyTokens, Long requestsPerMinute, Long tokensPerMinute, Instant createdAt,
                    Instant revokedAt, Boolean kafka) {
        this(name, hash, hint, roles, readCollections, writeCollections, departments, confidential, dailyTokens,
                monthlyTokens, requestsPerMinute, tokensPerMinute, createdAt, revokedAt, kafka, null);
    }

    public KeyEntry {
        kafka = Boolean.TRUE.equals(kafka) ? Boolean.TRUE : null;
        roles = roles == null ? Set.of() : Set.copyOf(roles);
        readCollections = readCollections == null ? List.of() : List.copyOf(readCollections);
        writeCollections = writeCollections == null ? List.of() : List.copyOf(writeCollections);
        departments = departments == null ? List.of() : List.copyOf(departments);
        eventTypes = eventTypes == null || eventTypes.isEmpty() ? null : List.copyOf(eventTypes);
        fetchFrom = fetchFrom == null || fetchFrom.isEmpty() ? null : List.copyOf(fetchFrom);
    }

    public boolean revoked() {
        return revokedAt != null;
    }

    /** Whether this key is a Kafka application's (see {@code kafka}). */
    public boolean kafkaApplication() {
        return Boolean.TRUE.equals(kafka);
    }

    /**
     * Whether this application declared {@code type}, a full type ({@code app.NAME.invoice.created}): under its own
     * prefix and in {@link #eventTypes}.
     */
    public boolean declaresEventType(String type) {
        String prefix = eventTypePrefix(name);
        return kafkaApplication() && eventTypes != null && type != null && type.startsWith(prefix)
                && eventTypes.contains(type.substring(prefix.length()));
    }

    /** The prefix of the event types the application {@code name} publishes: {@code app.NAME.}. */
    public static String eventTypePrefix(String name) {
        return fr.osfria.events.EventTypes.APPLICATION_PREFIX + name + ".";
    }

    /** This key with {@code types} as its declared event types. */
    public KeyEntry withEventTypes(List<String> types) {
        return new KeyEntry(name, hash, hint, roles, readCollections, writeCollections, departments, confidential,
                dailyTokens, monthlyTokens, requestsPerMinute, tokensPerMinute, createdAt, revokedAt, kafka, types, fetchFrom);
    }

    public boolean admin() {
        return roles.contains(ADMIN);
    }

    public boolean ops() {
        return roles.contains(OPS);
    }

    public KeyEntry revoke(Instant when) {
        return new KeyEntry(name, hash, hint, roles, readCollections, writeCollections, departments, confidential,
                dailyTokens, monthlyTokens, requestsPerMinute, tokensPerMinute, createdAt, when, kafka, eventTypes, fetchFrom);
    }
}
