package fr.osfria.security.error;

import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** Builds error responses in the platform's shape, with the error type that fits the status. */
public final class ErrorResponses {

    public static Response of(int status, String message, String code) {
        return Response.status(status)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ApiError.of(message, typeFor(status), code))
                .build();
    }

    /** 503 with {@code Retry-After}: nothing is wrong with the request, the client should send it again shortly. */
    public static Response unavailable(String message, String code, int retryAfterSeconds) {
        return Response.fromResponse(of(503, message, code)).header(HttpHeaders.RETRY_AFTER, retryAfterSeconds).build();
    }

    /** 429 with {@code Retry-After}: the caller has too much in progress or sent too much; it may send it again then. */
    public static Response tooManyRequests(String message, String code, int retryAfterSeconds) {
        return Response.fromResponse(of(429, message, code)).header(HttpHeaders.RETRY_AFTER, retryAfterSeconds).build();
    }

    public static Response badRequest(String message) {
        return of(400, message, "invalid_request");
    }

    public static Response notFound(String message) {
        return of(404, message, "not_found");
    }

    /** OpenAI's error types where one fits, so SDKs raise the matching exception class. */
    public static String typeFor(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 409 -> "conflict_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 503 -> "service_unavailable";
            case 507 -> "insufficient_quota"; // a storage quota or the platform's storage full: no retry helps
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }

    private ErrorResponses() {
    }
}
