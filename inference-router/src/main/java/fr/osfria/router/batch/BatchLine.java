package fr.osfria.router.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import fr.osfria.events.EventJson;
import fr.osfria.router.proxy.CompletionProxy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Set;

/**
 * One record of {@code osfria.app.<name>.inference.v1}: an OpenAI Batch API input line,
 * {@code {"custom_id":"…","method":"POST","url":"/v1/chat/completions","body":{…}}}. A record without a usable
 * {@code custom_id} cannot be answered ({@link Unanswerable}: dead letter); any other fault is answered with an error
 * for its {@code custom_id} ({@link Refused}).
 */
record BatchLine(String customId, String url, byte[] body) {

    static final Set<String> URLS = Set.of(CompletionProxy.CHAT, CompletionProxy.COMPLETIONS);
    private static final Set<String> FIELDS = Set.of("custom_id", "method", "url", "body");
    static final int MAX_CUSTOM_ID = 256;

    /** No custom_id to answer: the record goes to the dead-letter topic with this reason. */
    static final class Unanswerable extends Exception {
        Unanswerable(String message) {
            super(message, null, false, false);
        }
    }

    /** A fault answered with an error for the record's custom_id. */
    static final class Refused extends Exception {
        final String customId;
        final String code;

        Refused(String customId, String code, String message) {
            super(message, null, false, false);
            this.customId = customId;
            this.code = code;
        }
    }

    static BatchLine parse(String value, long maxBodyBytes) throws Unanswerable, Refused {
        if (value == null) {
            throw new Unanswerable("the record has no value");
        }
        JsonNode root;
        try {
            root = EventJson.MAPPER.readTree(value);
        } catch (IOException e) {
            throw new Unanswerable("the record is not JSON");
        }
        if (!(root instanceof ObjectNode line)) {
            throw new Unanswerable("the record is not a JSON object");
        }
        JsonNode id = line.get("custom_id");
        if (id == null || !id.isTextual() || id.asText().isEmpty() || id.asText().length() > MAX_CUSTOM_ID) {
            throw new Unanswerable("the record has no custom_id (a string of 1-" + MAX_CUSTOM_ID + " characters)");
        }
        String customId = id.asText();
        for (Iterator<String> it = line.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw new Refused(customId, "invalid_request", "unknown field '" + field + "': a line has custom_id, "
                        + "method, url and body only");
            }
        }
        JsonNode method = line.get("method");
        if (method != null && !"POST".equals(method.asText(null))) {
            throw new Refused(customId, "invalid_request", "'method' must be POST");
        }
        JsonNode url = line.get("url");
        if (url == null || !url.isTextual() || !URLS.contains(url.asText())) {
            throw new Refused(customId, "invalid_url", "'url' must be " + CompletionProxy.CHAT + " or "
                    + CompletionProxy.COMPLETIONS);
        }
        JsonNode body = line.get("body");
        if (!(body instanceof ObjectNode)) {
            throw new Refused(customId, "invalid_request", "'body' must be a JSON object");
        }
        JsonNode stream = body.get("stream");
        if (stream != null && stream.asBoolean(false)) {
            // an answer goes to Kafka whole: there is no one to stream to
            throw new Refused(customId, "invalid_request", "'stream' is not available in a batch: send it false or "
                    + "leave it out");
        }
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length > maxBodyBytes) {
            throw new Refused(customId, "request_too_large", "the body is larger than " + maxBodyBytes + " bytes");
        }
        return new BatchLine(customId, url.asText(), bytes);
    }

    /** The custom_id of a record, when it has one, for an error answer; null otherwise. */
    static String customIdOf(String value) {
        try {
            JsonNode id = EventJson.MAPPER.readTree(value).get("custom_id");
            return id != null && id.isTextual() && !id.asText().isEmpty() && id.asText().length() <= MAX_CUSTOM_ID
                    ? id.asText() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
