package fr.osfria.security.audit;

/**
 * The audit record of a call could not be made durable in time (the broker is away): the call is answered 503 with
 * {@code Retry-After}, never without its record, and never after a wait as long as the producer's own time-outs.
 */
public class AuditUnavailable extends RuntimeException {

    public AuditUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
