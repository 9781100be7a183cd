package fr.osfria.router.proxy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import fr.osfria.events.EventJson;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;

/**
 * A client's completion request, checked just enough to route it: a JSON object with a string {@code model} and,
 * if present, a boolean {@code stream}. Every other field goes to the backend unchanged. A stream is always asked
 * for its usage (so it can be counted exactly); when the client did not ask, the usage chunk is kept from it.
 *
 * @param forward        the bytes to send to the backend
 * @param clientWantsUsage whether the client itself asked for the usage chunk of a stream
 * @param user           the body's {@code user}, for affinity
 * @param prefix         the start of the prompt or messages, for prefix affinity
 * @param maxTokens      {@code max_tokens} (or {@code max_completion_tokens}), or -1 when the client gave none
 * @param promptEstimate an upper estimate of the prompt's tokens, for quota reservations: one token per three
 *                       characters of what the backend turns into prompt (prompt, message contents and tool calls,
 *                       tools; English runs about four a token) plus four per message for the chat template
 */
public record CompletionRequest(String model, boolean stream, boolean clientWantsUsage, String user, String prefix,
                         long maxTokens, long promptEstimate, Buffer forward) {

    public static final class Invalid extends Exception {
        public Invalid(String message) {
            super(message, null, false, false);
        }
    }

    public static CompletionRequest parse(Buffer body, int prefixLength) throws Invalid {
        if (body == null || body.length() == 0) {
            throw new Invalid("The request body is empty; send a JSON object with at least 'model'");
        }
        JsonNode root;
        try {
            root = EventJson.MAPPER.readTree(body.getBytes());
        } catch (IOException e) {
            throw new Invalid("The request body is not valid JSON");
        }
        if (!(root instanceof ObjectNode object)) {
            throw new Invalid("The request body must be a JSON object");
        }
        JsonNode model = object.get("model");
        if (model == null || model.isNull()) {
            throw new Invalid("You must provide a model parameter");
        }
        if (!model.isTextual() || model.asText().isBlank()) {
            throw new Invalid("'model' must be a non-empty string");
        }
        JsonNode stream = object.get("stream");
        if (stream != null && !stream.isNull() && !stream.isBoolean()) {
            throw new Invalid("'stream' must be a boolean");
        }
        boolean streaming = stream != null && stream.asBoolean();
        JsonNode options = object.get("stream_options");
        if (options != null && !options.isNull() && !options.isObject()) {
            throw new Invalid("'stream_options' must be an object");
        }
        boolean wantsUsage = options != null && options.path("include_usage").asBoolean(false);
        Buffer forward = body;
        if (streaming && !wantsUsage) {
            ObjectNode opts = options != null && options.isObject() ? (ObjectNode) options : object.putObject("stream_options");
            opts.put("include_usage", true);
            try {
                forward = Buffer.buffer(EventJson.MAPPER.writeValueAsBytes(object));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        JsonNode user = object.get("user");
        return new CompletionRequest(model.asText(), streaming, wantsUsage,
                user != null && user.isTextual() ? user.asText() : null, prefix(object, prefixLength),
                maxTokens(object), promptEstimate(object), forward);
    }

    private static long promptEstimate(ObjectNode object) {
        long chars = length(object.get("prompt")) + length(object.get("tools")) + length(object.get("functions"));
        long messages = 0;
        JsonNode list = object.get("messages");
        if (list != null && list.isArray()) {
            for (JsonNode message : list) {
                messages++;
                chars += length(message.get("content")) + length(message.get("tool_calls"));
            }
        } else {
            chars += length(list);
        }
        return chars / 3 + 4 * messages + 1;
    }

    /** Text as its characters; anything structured (content parts, token ids, tools) as its JSON, an upper bound. */
    private static long length(JsonNode node) {
        return node == null || node.isNull() ? 0 : node.isTextual() ? node.asText().length() : node.toString().length();
    }

    private static long maxTokens(ObjectNode object) throws Invalid {
        for (String field : new String[] {"max_tokens", "max_completion_tokens"}) {
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                continue;
            }
            if (!value.canConvertToLong() || !value.isIntegralNumber() || value.asLong() < 0) {
                throw new Invalid("'" + field + "' must be a non-negative integer");
            }
            return value.asLong();
        }
        return -1;
    }

    private static String prefix(ObjectNode object, int length) {
        if (length <= 0) {
            return null;
        }
        JsonNode prompt = object.has("messages") ? object.get("messages") : object.get("prompt");
        if (prompt == null) {
            return null;
        }
        String text = prompt.isTextual() ? prompt.asText() : prompt.toString();
        return text.length() <= length ? text : text.substring(0, length);
    }
}
