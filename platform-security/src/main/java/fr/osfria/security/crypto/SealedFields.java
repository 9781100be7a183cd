package fr.osfria.security.crypto;

import com.fasterxml.jackson.core.JsonProcessingException;
import fr.osfria.events.EventJson;
import java.security.GeneralSecurityException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.crypto.SecretKey;

/**
 * The file name and metadata values of a confidential document, sealed like its text: AES-256-GCM under the
 * version's data key, the associated data binding the document id and the field, so a sealed value cannot be
 * moved to another document or another key. A sealed value reads {@code sealed:<base64>} wherever it goes
 * (database, events, index), so readers know what to open; file names never contain ':' (see the upload's
 * name cleaning), so a clear name cannot pass for a sealed one. {@code department} and {@code confidential}
 * stay clear: rights filter on them.
 */
public final class SealedFields {

    public static final String PREFIX = "sealed:";
    /** Metadata keys that stay clear because permissions filter on them. */
    public static final Set<String> CLEAR_KEYS = Set.of("department", "confidential");

    public static String sealFilename(SecretKey dataKey, String documentId, String filename) {
        return filename == null ? null : PREFIX + Aead.sealText(dataKey, filename, documentId + "#filename");
    }

    /** The clear name; a name stored before names were sealed comes back as it is. */
    public static String openFilename(SecretKey dataKey, String documentId, String stored) throws GeneralSecurityException {
        return isSealed(stored) ? Aead.openText(dataKey, stored.substring(PREFIX.length()), documentId + "#filename") : stored;
    }

    /** Every value but those of {@link #CLEAR_KEYS} sealed (its JSON, so numbers and lists come back as they were). */
    public static Map<String, Object> sealMetadata(SecretKey dataKey, String documentId, Map<String, Object> metadata) {
        Map<String, Object> sealed = new LinkedHashMap<>();
        metadata.forEach((key, value) -> sealed.put(key, CLEAR_KEYS.contains(key) ? value
                : PREFIX + Aead.sealText(dataKey, json(value), associatedData(documentId, key))));
        return sealed;
    }

    /** The metadata with its sealed values opened; clear values (older documents) are kept as they are. */
    public static Map<String, Object> openMetadata(SecretKey dataKey, String documentId, Map<String, Object> metadata)
            throws GeneralSecurityException {
        Map<String, Object> open = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : metadata.entrySet()) {
            open.put(e.getKey(), openValue(dataKey, documentId, e.getKey(), e.getValue()));
        }
        return open;
    }

    public static Object openValue(SecretKey dataKey, String documentId, String key, Object value) throws GeneralSecurityException {
        if (CLEAR_KEYS.contains(key) || !isSealed(value)) {
            return value;
        }
        String clear = Aead.openText(dataKey, ((String) value).substring(PREFIX.length()), associatedData(documentId, key));
        try {
            return EventJson.MAPPER.readValue(clear, Object.class);
        } catch (JsonProcessingException e) {
            throw new GeneralSecurityException("a sealed metadata value is not JSON");
        }
    }

    public static boolean isSealed(Object value) {
        return value instanceof String s && s.startsWith(PREFIX);
    }

    private static String associatedData(String documentId, String key) {
        return documentId + "#metadata/" + key;
    }

    private static String json(Object value) {
        try {
            return EventJson.MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("metadata value not serialisable as JSON", e);
        }
    }

    private SealedFields() {
    }
}
