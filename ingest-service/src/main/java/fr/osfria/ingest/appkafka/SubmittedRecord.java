package fr.osfria.ingest.appkafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.app.DocumentSubmitted;
import fr.osfria.ingest.document.service.InvalidUpload;
import fr.osfria.ingest.document.service.StoredText;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A record of {@code osfria.app.<name>.documents.v1} read and checked: a CloudEvent 1.0 of type
 * {@code fr.osfria.app.document.submitted} whose data is {@link DocumentSubmitted}, the file decoded, or the URL
 * to fetch it from ({@code fileUrl}; then {@code file} is null: the URL is checked when it is fetched). What the
 * REST upload checks on its form (collection, file name, metadata limits, file size) is left to {@code Upload.of}, the
 * same for both. Anything else wrong is an {@link InvalidUpload} (400, or 413 over size) whose message is the reason.
 *
 * <p>The strings that reach PostgreSQL or a Kafka header are checked ({@link StoredText}): {@code id} (the record
 * memory, {@code app_record}) and {@code correlation_id} (the document's row) are identifiers, compared exactly as
 * sent (no Unicode normalisation, no case folding), without control characters or lone surrogates; collection, file
 * name and metadata as the REST upload's. {@code type} must be the constant; {@code source} and {@code content_type}
 * are stored nowhere.
 *
 * @param metadataJson the metadata object as JSON, with {@code confidential} from the data when it is given
 */
record SubmittedRecord(String eventId, String correlationId, String collection, String filename, String metadataJson,
                       byte[] file, String fileUrl) {

    static final int MAX_ID_CHARS = 256;
    static final int MAX_URL_CHARS = 2048;
    /** The data, strictly: a field this version does not know is refused rather than silently ignored. */
    private static final ObjectMapper STRICT = EventJson.MAPPER.copy()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    /**
     * The event's id and correlation id, as far as they can be read from {@code json} (for a rejection's result): each
     * only when it passes the checks {@link #parse} makes, else null (a rejection then carries no correlation id). A
     * refused id is never echoed: it would be the key and body of the result, and one of a million characters made a
     * result the broker refused, retried while every application's records waited.
     */
    record Ids(String eventId, String correlationId) {
    }

    static Ids ids(String json) {
        try {
            JsonNode root = EventJson.MAPPER.readTree(json);
            String id = identifier(text(root.path("id")));
            JsonNode correlation = root.path("data").path("correlation_id");
            return new Ids(id, correlation.isMissingNode() || correlation.isNull() ? id : identifier(text(correlation)));
        } catch (JsonProcessingException | RuntimeException e) {
            return new Ids(null, null);
        }
    }

    /** {@code value} when it is a valid id or correlation id, else null. */
    private static String identifier(String value) {
        return value == null || value.isBlank() || value.length() > MAX_ID_CHARS || !StoredText.isIdentifier(value)
                ? null : value;
    }

    static SubmittedRecord parse(String json, long maxFileBytes) {
        JsonNode root;
        try {
            root = json == null ? null : EventJson.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw invalid("the record is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw invalid("the record is not a JSON object (a CloudEvent)");
        }
        if (!CloudEvent.SPEC_VERSION.equals(text(root.path("specversion")))) {
            throw invalid("'specversion' must be \"1.0\" (a CloudEvent in structured JSON mode)");
        }
        String id = text(root.path("id"));
        if (id == null || id.isBlank() || id.length() > MAX_ID_CHARS) {
            throw invalid("'id' is required, 1-" + MAX_ID_CHARS + " characters");
        }
        StoredText.checkIdentifier("'id'", id);
        if (!DocumentSubmitted.TYPE.equals(text(root.path("type")))) {
            throw invalid("'type' must be \"" + DocumentSubmitted.TYPE + "\" on this topic");
        }
        if (!root.path("data").isObject()) {
            throw invalid("'data' must be a JSON object");
        }
        DocumentSubmitted data;
        try {
            data = STRICT.treeToValue(root.get("data"), DocumentSubmitted.class);
        } catch (JsonProcessingException e) {
            throw invalid("'data' does not match fr.osfria.app.document.submitted: " + e.getOriginalMessage());
        }
        String correlation = data.correlationId() == null ? id : data.correlationId();
        if (correlation.isBlank() || correlation.length() > MAX_ID_CHARS) {
            throw invalid("'correlation_id' is 1-" + MAX_ID_CHARS + " characters");
        }
        StoredText.checkIdentifier("'correlation_id'", correlation);
        if ((data.fileBase64() == null) == (data.fileUrl() == null)) {
            throw invalid("exactly one of 'file_base64' (the file in base64) and 'file_url' (where to fetch it) is"
                    + " required");
        }
        Map<String, Object> metadata = data.metadata() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(data.metadata());
        if (data.confidential() != null) {
            metadata.put("confidential", data.confidential());
        }
        String metadataJson = EventJson.encodeMap(metadata);
        if (data.fileUrl() != null) {
            if (data.fileUrl().isBlank() || data.fileUrl().length() > MAX_URL_CHARS) {
                throw invalid("'file_url' is 1-" + MAX_URL_CHARS + " characters");
            }
            StoredText.checkIdentifier("'file_url'", data.fileUrl());
            return new SubmittedRecord(id, correlation, data.collection(), data.filename(), metadataJson, null,
                    data.fileUrl());
        }
        if (data.fileBase64().isEmpty()) {
            throw invalid("'file_base64' is empty");
        }
        long approximate = (long) data.fileBase64().length() / 4 * 3;
        if (approximate > maxFileBytes + 2) {
            throw new InvalidUpload(413, "the file is about " + approximate + " bytes; the limit for a record is "
                    + maxFileBytes);
        }
        byte[] file;
        try {
            file = Base64.getDecoder().decode(data.fileBase64());
        } catch (IllegalArgumentException e) {
            throw invalid("'file_base64' is not base64 (RFC 4648, no line breaks): " + e.getMessage());
        }
        return new SubmittedRecord(id, correlation, data.collection(), data.filename(), metadataJson, file, null);
    }

    boolean byUrl() {
        return fileUrl != null;
    }

    /** The record as the dead-letter topic keeps it: the file left out (its size instead), everything else as sent. */
    static JsonNode withoutFile(String json) {
        try {
            JsonNode root = EventJson.MAPPER.readTree(json);
            if (root != null && root.path("data").isObject() && root.get("data").has("file_base64")) {
                ObjectNode data = (ObjectNode) root.get("data");
                int chars = data.path("file_base64").asText("").length();
                data.remove("file_base64");
                data.put("file_base64_chars", chars);
            }
            return root != null && root.isObject() ? root : null;
        } catch (JsonProcessingException | RuntimeException e) {
            return null;
        }
    }

    private static String text(JsonNode node) {
        return node != null && node.isTextual() ? node.asText() : null;
    }

    private static InvalidUpload invalid(String reason) {
        return new InvalidUpload(400, reason);
    }
}
