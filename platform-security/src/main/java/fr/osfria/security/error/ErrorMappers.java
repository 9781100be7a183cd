package fr.osfria.security.error;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.quarkus.logging.Log;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Path;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.stream.Collectors;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Maps failures to JSON errors with the right status; never a stack trace or class name to the client. */
public class ErrorMappers {

    /** The package of the multipart form parser of Quarkus REST. */
    private static final String MULTIPART = "org.jboss.resteasy.reactive.server.core.multipart.";

    private static final String CHALLENGE = "Bearer realm=\"osfria\"";

    @ServerExceptionMapper
    public Response authenticationFailed(AuthenticationFailedException e) {
        String message = e.getMessage() == null || e.getMessage().isBlank() ? "invalid or revoked API key" : e.getMessage();
        return withChallenge(ErrorResponses.of(401, message, "invalid_api_key"));
    }

    @ServerExceptionMapper
    public Response unauthorized(UnauthorizedException e) {
        return withChallenge(ErrorResponses.of(401,
                "missing API key: send 'Authorization: Bearer sk-osfria-…'", "missing_api_key"));
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e) {
        return ErrorResponses.of(403, "this API key is not allowed to do that", "forbidden");
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return ErrorResponses.notFound("no such resource");
    }

    /** JSON of the wrong shape ("top_k": "five", "filters": [1]): which field, without Java class names. */
    @ServerExceptionMapper
    public Response wrongShape(com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
        String field = e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."));
        return ErrorResponses.badRequest(field.isEmpty() ? "the request body does not have the expected shape"
                : "'" + field + "' does not have the expected type");
    }

    @ServerExceptionMapper
    public Response invalidJson(JsonProcessingException e) {
        return ErrorResponses.badRequest("request body is not valid JSON: " + e.getOriginalMessage());
    }

    /** Bean Validation failures on request bodies and parameters: which field, and why. */
    @ServerExceptionMapper
    public Response invalid(ConstraintViolationException e) {
        String message = e.getConstraintViolations().stream()
                .map(v -> lastNode(v.getPropertyPath()) + ": " + v.getMessage())
                .sorted()
                .collect(Collectors.joining("; "));
        return ErrorResponses.badRequest(message.isEmpty() ? "invalid request" : message);
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        if (status >= 500) {
            Log.errorf(e, "request failed with %d", status);
            return ErrorResponses.of(status, "internal error", "internal_error");
        }
        String reason = e.getResponse().getStatusInfo().getReasonPhrase();
        return ErrorResponses.of(status, reason == null ? "request refused" : reason.toLowerCase(), null);
    }

    /** An audited call whose record the broker did not take in time: its answer is withheld; try again shortly. */
    @ServerExceptionMapper
    public Response auditUnavailable(fr.osfria.security.audit.AuditUnavailable e) {
        Log.warnf("audit unavailable: %s", e.getMessage());
        return ErrorResponses.unavailable("the audit trail cannot be written for the moment; try again in a few seconds",
                "audit_unavailable", DatabaseUnavailable.RETRY_AFTER_SECONDS);
    }

    /**
     * Anything unforeseen: logged with an id the client can quote; no detail leaves the service. The database out
     * of reach is foreseen: 503 with {@code Retry-After}, since trying again shortly is what the client should do.
     */
    @ServerExceptionMapper
    public Response unexpected(Exception e) {
        if (DatabaseUnavailable.causes(e)) {
            Log.warnf("database unavailable: %s", e.toString());
            return ErrorResponses.unavailable("the database cannot be reached for the moment; try again in a few seconds",
                    "database_unavailable", DatabaseUnavailable.RETRY_AFTER_SECONDS);
        }
        if (malformedForm(e)) {
            return ErrorResponses.badRequest("the request body is not a well-formed multipart/form-data form (it ends"
                    + " before its closing boundary, or a part's headers or encoding are malformed)");
        }
        String id = java.util.UUID.randomUUID().toString();
        Log.errorf(e, "unexpected failure, error id %s", id);
        return ErrorResponses.of(500, "internal error (error id " + id + ")", "internal_error");
    }

    /**
     * A multipart body the form parser of Quarkus REST could not read: the client's fault, not the service's. The
     * parser reports malformed part headers with its own exception, a body ending before its closing boundary with an
     * IOException it throws itself, and lets through what the JDK throws while decoding for it (a part's bad base64,
     * an unknown charset for the form), or wraps it in a bare RuntimeException (an unknown charset for one text part).
     * A failure to write the received file (a full disk) comes from the JDK's file channel, or wrapped in a bare
     * RuntimeException around an IOException: it stays a 500.
     */
    private static boolean malformedForm(Exception e) {
        if (e.getClass().getName().equals(MULTIPART + "MultipartParser$MalformedMessageException")) {
            return true;
        }
        StackTraceElement[] at = e.getStackTrace();
        if (at.length == 0) {
            return false;
        }
        if (e instanceof java.io.IOException && !(e instanceof java.io.UnsupportedEncodingException)) {
            return at[0].getClassName().startsWith(MULTIPART);
        }
        if (e instanceof IllegalArgumentException || e instanceof java.io.UnsupportedEncodingException) {
            return java.util.Arrays.stream(at).anyMatch(frame -> frame.getClassName().startsWith(MULTIPART + "MultipartParser"));
        }
        // a text part in an unknown charset: the upload handler wraps the decoder's refusal
        return e.getClass() == RuntimeException.class && e.getCause() instanceof java.io.UnsupportedEncodingException
                && at[0].getClassName().startsWith(MULTIPART);
    }

    private static String lastNode(Path path) {
        String name = null;
        for (Path.Node node : path) {
            name = node.getName();
        }
        return name == null ? "request" : name;
    }

    private static Response withChallenge(Response response) {
        return Response.fromResponse(response).header(HttpHeaders.WWW_AUTHENTICATE, CHALLENGE).build();
    }
}
