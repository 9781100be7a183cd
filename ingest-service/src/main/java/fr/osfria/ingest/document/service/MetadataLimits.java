package fr.osfria.ingest.document.service;

import fr.osfria.events.EventJson;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Bounds on the caller's metadata, checked at upload and update: every string ends up as a term of the index
 * (Lucene refuses terms over 32,766 bytes) and in every chunk event of the document, so none may be unbounded.
 * A string of {@value #MAX_VALUE_CHARS} characters is at most 8 KiB in UTF-8, far below the index's limit. Keys and
 * values are text PostgreSQL can hold ({@link StoredText}); a key quoted in a refusal is quoted printable.
 */
public final class MetadataLimits {

    public static final int MAX_KEYS = 64;
    public static final int MAX_KEY_CHARS = 128;
    public static final int MAX_VALUE_CHARS = 2_048;
    public static final int MAX_LIST_ITEMS = 256;
    public static final int MAX_DEPTH = 4;
    /** The whole object as JSON (UTF-8); it travels with each chunk of the document. */
    public static final int MAX_TOTAL_BYTES = 16_384;
    /** Permissions filter on it; the database column holds 128 characters. */
    public static final int MAX_DEPARTMENT_CHARS = 128;

    /** @throws InvalidUpload (400) naming the first limit the metadata exceeds */
    public static void check(Map<String, Object> metadata) {
        if (metadata.size() > MAX_KEYS) {
            throw invalid("has " + metadata.size() + " keys; the limit is " + MAX_KEYS);
        }
        checkObject(metadata, 1);
        int bytes = EventJson.encodeMap(metadata).getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_TOTAL_BYTES) {
            throw invalid("is " + bytes + " bytes as JSON; the limit is " + MAX_TOTAL_BYTES);
        }
        if (metadata.get("department") instanceof String d && d.length() > MAX_DEPARTMENT_CHARS) {
            throw invalid("value of 'department' is " + d.length() + " characters; the limit is " + MAX_DEPARTMENT_CHARS);
        }
    }

    private static void checkObject(Map<?, ?> object, int depth) {
        for (Map.Entry<?, ?> e : object.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (key.isBlank() || key.length() > MAX_KEY_CHARS || key.chars().anyMatch(Character::isISOControl)
                    || !StoredText.storable(key)) {
                throw invalid("keys are 1-" + MAX_KEY_CHARS + " characters without control characters; '"
                        + abbreviate(key) + "' is not");
            }
            checkValue(key, e.getValue(), depth);
        }
    }

    private static void checkValue(String key, Object value, int depth) {
        if (value instanceof String s) {
            if (s.length() > MAX_VALUE_CHARS) {
                throw invalid("value of '" + abbreviate(key) + "' is " + s.length() + " characters; the limit is " + MAX_VALUE_CHARS);
            }
            StoredText.check("'metadata' value of '" + abbreviate(key) + "'", s);
        }
        if (value instanceof List<?> list) {
            if (list.size() > MAX_LIST_ITEMS) {
                throw invalid("list '" + abbreviate(key) + "' has " + list.size() + " items; the limit is " + MAX_LIST_ITEMS);
            }
            for (Object item : list) {
                checkNested(key, item, depth);
            }
        } else if (value instanceof Map<?, ?>) {
            checkNested(key, value, depth);
        }
    }

    private static void checkNested(String key, Object value, int depth) {
        if (value instanceof Map<?, ?> || value instanceof List<?>) {
            if (depth >= MAX_DEPTH) {
                throw invalid("nests deeper than " + MAX_DEPTH + " levels under '" + abbreviate(key) + "'");
            }
            if (value instanceof Map<?, ?> map) {
                checkObject(map, depth + 1);
                return;
            }
            checkValue(key, value, depth + 1);
            return;
        }
        checkValue(key, value, depth);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    private static InvalidUpload invalid(String what) {
        return new InvalidUpload(400, "'metadata' " + what);
    }

    private MetadataLimits() {
    }
}
