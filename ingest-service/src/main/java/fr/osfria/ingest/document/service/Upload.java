package fr.osfria.ingest.document.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import fr.osfria.events.EventJson;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A validated upload: a safe file name, a valid collection, the caller's metadata as a JSON object, and the
 * department and confidentiality that permissions are checked against.
 */
public record Upload(Path file, String filename, long size, String collection, Map<String, Object> metadata,
                     String department, boolean confidential) {

    private static final TypeReference<LinkedHashMap<String, Object>> OBJECT = new TypeReference<>() {
    };
    public static final int MAX_FILENAME = 255;
    /**
     * Control characters of all Unicode (C0, DEL and C1, such as U+0085 and U+009B: {@code \p{Cntrl}} is ASCII
     * only), format characters, the line and paragraph separators, and what file systems reserve.
     */
    private static final Pattern UNSAFE_IN_NAME = Pattern.compile("[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}<>:\"|?*]");
    private static final Pattern COLLECTION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    public static Upload of(Path file, String rawFilename, long size, long maxBytes, String collection, String metadataJson) {
        if (file == null) {
            throw new InvalidUpload(400, "the form has no 'file' part");
        }
        if (size == 0) {
            throw new InvalidUpload(400, "the file is empty");
        }
        if (size > maxBytes) {
            throw new InvalidUpload(413, "the file is " + size + " bytes; the limit is " + maxBytes);
        }
        if (collection == null || collection.isBlank()) {
            throw new InvalidUpload(400, "'collection' is required");
        }
        if (!isCollectionName(collection)) {
            throw new InvalidUpload(400, "'collection' is 1-128 letters, digits, '.', '_' or '-'");
        }
        StoredText.check("'filename'", rawFilename); // a NUL dropped by safeFilename would have changed the name unseen
        Map<String, Object> metadata = metadata(metadataJson);
        MetadataLimits.check(metadata);
        Object department = metadata.get("department");
        if (department != null && !(department instanceof String)) {
            throw new InvalidUpload(400, "metadata 'department' must be a string");
        }
        Object confidential = metadata.getOrDefault("confidential", false);
        if (!(confidential instanceof Boolean)) {
            throw new InvalidUpload(400, "metadata 'confidential' must be true or false");
        }
        String dept = department == null || ((String) department).isBlank() ? null : ((String) department).strip();
        return new Upload(file, safeFilename(rawFilename), size, collection, metadata, dept, (Boolean) confidential);
    }

    /** Whether {@code collection} is a name a collection can have. */
    public static boolean isCollectionName(String collection) {
        return collection != null && COLLECTION.matcher(collection).matches();
    }

    /**
     * {@code collection} as an audit record or an answer to a refusal may name it: null when it is no collection name
     * (the audit store holds 128 characters of text, and neither the audit nor a result is a place for a caller's
     * arbitrary bytes).
     */
    public static String auditable(String collection) {
        return isCollectionName(collection) ? collection : null;
    }

    /** The same upload with its file name and metadata as they are to be stored (sealed for a confidential one). */
    public Upload withStoredFields(String storedFilename, Map<String, Object> storedMetadata) {
        return new Upload(file, storedFilename, size, collection, storedMetadata, department, confidential);
    }

    private static Map<String, Object> metadata(String json) {
        if (json == null || json.isBlank()) {
            return new LinkedHashMap<>();
        }
        try {
            Map<String, Object> map = EventJson.MAPPER.readValue(json, OBJECT);
            if (map == null) {
                throw new InvalidUpload(400, "'metadata' must be a JSON object");
            }
            return map;
        } catch (JsonProcessingException e) {
            throw new InvalidUpload(400, "'metadata' must be a JSON object: " + e.getOriginalMessage());
        }
    }

    /**
     * The name shown back to users: the last path segment, without control, format, line-separator or reserved
     * characters, at most 255 UTF-16 units (the extension kept, no character cut in half). Never used to build a path.
     */
    public static String safeFilename(String raw) {
        if (raw == null) {
            return "document";
        }
        String name = raw.replace('\\', '/');
        name = name.substring(name.lastIndexOf('/') + 1);
        name = UNSAFE_IN_NAME.matcher(name).replaceAll("").strip();
        while (name.startsWith(".")) {
            name = name.substring(1);
        }
        if (name.isEmpty()) {
            return "document";
        }
        if (name.length() > MAX_FILENAME) {
            int dot = name.lastIndexOf('.');
            String ext = dot > 0 && name.length() - dot <= 10 ? name.substring(dot) : "";
            int cut = MAX_FILENAME - ext.length();
            if (Character.isHighSurrogate(name.charAt(cut - 1))) {
                cut--; // never half a character (it was stored as '?')
            }
            name = name.substring(0, cut) + ext;
        }
        return name;
    }
}
