package fr.osfria.embed.index;

import fr.osfria.security.crypto.KeyedHash;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Equality filters on metadata without readable values in the index: a confidential document's metadata value is
 * indexed as a keyed hash of its key and value (a blind index, like the one for keywords), and a cleared
 * caller's filter values are hashed the same way, so {@code {"project":"Rachat"}} still finds it. Equal values
 * give equal hashes: how often a value occurs still shows, its text does not.
 */
public final class MetadataTokens {

    /** Label of the key the hashes are made with (derived from the KEK). */
    public static final String LABEL = "osfria-metadata-index-v1";
    /** Filter names that are fields of their own, never metadata hashes. */
    private static final List<String> OWN_FIELDS = List.of("department", "confidential", "document_id");

    private final KeyedHash hash;

    public MetadataTokens(KeyedHash hash) {
        this.hash = hash;
    }

    /** Whether a filter name is a field of its own (clear everywhere), not a metadata key. */
    public static boolean ownField(String key) {
        return OWN_FIELDS.contains(key);
    }

    public String token(String key, String value) {
        return "h:" + hash.of(key, value).substring(0, 32);
    }

    /** The filters of a cleared caller: each metadata value also as its hash, to reach confidential chunks. */
    public Map<String, List<String>> widen(Map<String, List<String>> filters) {
        return widen(filters, filters);
    }

    /** {@code into} with, for each metadata value of {@code filters}, its hash under this key added. */
    public Map<String, List<String>> widen(Map<String, List<String>> into, Map<String, List<String>> filters) {
        Map<String, List<String>> wide = new LinkedHashMap<>();
        into.forEach((key, values) -> {
            List<String> all = new ArrayList<>(values);
            if (!OWN_FIELDS.contains(key)) {
                filters.getOrDefault(key, List.of()).forEach(v -> all.add(token(key, v)));
            }
            wide.put(key, all);
        });
        return wide;
    }

    /** The scalar values of a metadata value (a list: each element), as filters compare them. */
    public static List<String> scalars(Object value) {
        List<String> out = new ArrayList<>();
        if (value instanceof List<?> list) {
            list.forEach(v -> addScalar(out, v));
        } else {
            addScalar(out, value);
        }
        return out;
    }

    private static void addScalar(List<String> out, Object v) {
        if (v instanceof String || v instanceof Number || v instanceof Boolean) {
            out.add(String.valueOf(v));
        }
    }

    /** Filter terms of clear metadata: its scalar values, per key. */
    public static Map<String, List<String>> clearTerms(Map<String, Object> metadata) {
        Map<String, List<String>> terms = new LinkedHashMap<>();
        if (metadata != null) {
            metadata.forEach((key, value) -> {
                List<String> values = scalars(value);
                if (!values.isEmpty()) {
                    terms.put(key, values);
                }
            });
        }
        return terms;
    }
}
