package fr.osfria.embed.search;

import fr.osfria.embed.index.MetadataTokens;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code filters} of a search: equality on metadata keys (a scalar, or a list of scalars meaning any of them),
 * bounded like the metadata they are compared with (ingest's {@code MetadataLimits}), since every value becomes a
 * term of the store's query; and how the audit records them without the values a confidential document may hold.
 */
final class SearchFilters {

    static final int MAX_KEYS = 64;
    static final int MAX_KEY_CHARS = 128;
    static final int MAX_VALUES = 100;
    /** The longest metadata value an upload may carry: a longer one matches nothing. */
    static final int MAX_VALUE_CHARS = 2_048;
    static final int MAX_TOTAL_CHARS = 16_384;

    private SearchFilters() {
    }

    /** @throws IllegalArgumentException (a 400) naming the first limit exceeded */
    static Map<String, List<String>> parse(Map<String, Object> raw) {
        Map<String, List<String>> filters = new LinkedHashMap<>();
        if (raw == null) {
            return filters;
        }
        if (raw.size() > MAX_KEYS) {
            throw new IllegalArgumentException("'filters' has " + raw.size() + " keys; the limit is " + MAX_KEYS);
        }
        int total = 0;
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            String key = e.getKey();
            if (key == null || key.isBlank() || key.length() > MAX_KEY_CHARS || key.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("filter names are 1-" + MAX_KEY_CHARS + " characters without control characters");
            }
            List<String> values;
            if (e.getValue() instanceof List<?> list) {
                if (list.isEmpty() || list.size() > MAX_VALUES) {
                    throw new IllegalArgumentException("filter '" + key + "': a list of 1 to " + MAX_VALUES + " values");
                }
                values = list.stream().map(v -> scalar(key, v)).toList();
            } else {
                values = List.of(scalar(key, e.getValue()));
            }
            for (String v : values) {
                total += v.length();
            }
            if (total > MAX_TOTAL_CHARS) {
                throw new IllegalArgumentException("'filters' values are over " + MAX_TOTAL_CHARS + " characters in all");
            }
            filters.put(key, values);
        }
        return filters;
    }

    private static String scalar(String key, Object value) {
        if (value instanceof String || value instanceof Number || value instanceof Boolean) {
            String s = String.valueOf(value);
            if (s.length() > MAX_VALUE_CHARS) {
                throw new IllegalArgumentException("filter '" + key + "': a value is " + s.length()
                        + " characters; the limit is " + MAX_VALUE_CHARS);
            }
            return s;
        }
        throw new IllegalArgumentException("filter '" + key + "' must be a string, number, boolean or a list of them");
    }

    /**
     * The filters as the audit keeps them: {@code department}, {@code confidential} and {@code document_id} as sent
     * (they are clear everywhere); a metadata value, which may be a confidential document's, only as the keyed hash
     * the index holds for it ({@code tokens}, under the active KEK), or, without a KEK, only how many were sent.
     */
    static Map<String, Object> forAudit(Map<String, List<String>> filters, MetadataTokens tokens) {
        Map<String, Object> audited = new LinkedHashMap<>();
        filters.forEach((key, values) -> audited.put(key, MetadataTokens.ownField(key) ? values
                : tokens == null ? values.size() + " values" : values.stream().map(v -> tokens.token(key, v)).toList()));
        return audited;
    }
}
