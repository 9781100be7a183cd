package fr.osfria.security.crypto;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * What one re-seal pass of a service did ({@code POST /v1/admin/kek/reseal}): how many values it moved to the
 * active KEK, how many are still under another one ({@code remaining}; call again while it goes down), and how many
 * of those no configured KEK opens ({@code unreadable}: their KEK was removed too early). The retired KEKs may be
 * removed once every service answers {@code remaining: 0}.
 */
public record ResealReport(String object, String service, @JsonProperty("kek_id") String kekId,
                           @JsonProperty("retired_kek_ids") List<String> retiredKekIds,
                           int resealed, int remaining, int unreadable) {

    public static ResealReport of(String service, Keyring keyring, int resealed, int remaining, int unreadable) {
        return new ResealReport("kek.reseal", service, keyring.activeId(), keyring.retiredIds(), resealed, remaining, unreadable);
    }

    public static ResealReport of(String service, Keyring keyring, ColumnResealer.Counts counts) {
        return of(service, keyring, counts.resealed(), counts.remaining(), counts.unreadable());
    }

    /** The path every sealing service answers, for administrators. */
    public static final String PATH = "/v1/admin/kek/reseal";
}
