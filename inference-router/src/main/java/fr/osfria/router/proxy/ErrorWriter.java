package fr.osfria.router.proxy;

import fr.osfria.events.EventJson;
import fr.osfria.security.error.ApiError;
import fr.osfria.security.error.ErrorResponses;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/** Errors in OpenAI's shape, written straight on a Vert.x response (the proxy does not go through JAX-RS). */
final class ErrorWriter {

    static Buffer body(int status, String message, String code) {
        try {
            return Buffer.buffer(EventJson.MAPPER.writeValueAsBytes(ApiError.of(message, ErrorResponses.typeFor(status), code)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static void write(HttpServerResponse response, int status, String message, String code) {
        if (response.headWritten() || response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(status).putHeader("content-type", "application/json").end(body(status, message, code));
    }

    static void retryAfter(HttpServerResponse response, int status, long seconds, String message, String code) {
        if (!response.headWritten()) {
            response.putHeader("retry-after", Long.toString(seconds));
        }
        write(response, status, message, code);
    }

    /** The event that ends a stream which broke after it started: SDKs raise it as an API error. */
    static Buffer streamError(String message, String code) {
        Buffer event = Buffer.buffer("data: ");
        event.appendBuffer(body(502, message, code));
        return event.appendString("\n\ndata: [DONE]\n\n");
    }

    private ErrorWriter() {
    }
}
