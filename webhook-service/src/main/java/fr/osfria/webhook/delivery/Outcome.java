package fr.osfria.webhook.delivery;

import fr.osfria.security.network.TargetPolicy;
import java.time.Duration;

/**
 * What one attempt gave, as the subscription's owner sees it: the receiver's HTTP status, or a coarse reason. Never
 * a raw socket error: "Connection refused" against "Connection reset" would map a company's internal hosts and ports.
 */
record Outcome(int status, long durationMs, String error, Duration retryAfter) {

    /** Could not connect, or the connection broke before an HTTP answer (closed port, non-HTTP service, TLS failure). */
    static final String CONNECTION_FAILED = "connection_failed";
    /** No status line and headers within the attempt's deadline. */
    static final String TIMEOUT = "timeout";
    /** The target is not allowed (now): it resolves to a forbidden address, or does not resolve. */
    static final String REFUSED_BY_POLICY = "refused_by_policy";
    /**
     * The target's name could not be looked up in time (a name server, the platform's or the domain's, did not
     * answer): nothing is known against the URL. Retried, and counted toward exhaustion and disabling, like any
     * failure.
     */
    static final String LOOKUP_TIMEOUT = "lookup_timeout";
    /** The subscription's secret cannot be opened: nothing is sent unsigned. */
    static final String SECRET_UNAVAILABLE = "secret_unavailable";
    /** The subscription was deactivated after the delivery was recorded. */
    static final String INACTIVE = "subscription_inactive";

    /** Not sent: the subscription's owner may not (or no longer) see the event; {@code why} is for its history. */
    private static final int WITHHELD = -2;

    static Outcome withheld(String why) {
        return new Outcome(WITHHELD, 0, why, null);
    }

    boolean withheld() {
        return status == WITHHELD;
    }

    /** Not sent: its lease was nearly spent, and the delivery had been claimed again before it could renew it. */
    private static final int TAKEN_OVER = -3;

    static Outcome takenOver() {
        return new Outcome(TAKEN_OVER, 0, null, null);
    }

    boolean wasTakenOver() {
        return status == TAKEN_OVER;
    }

    static Outcome answered(int status, long durationMs, Duration retryAfter) {
        return new Outcome(status, durationMs, null, retryAfter);
    }

    /**
     * Not sent: the network policy refused the target (recorded as lasting 0 ms, as before), or could not look its
     * name up in time (lasting the check: the owner sees the wait).
     */
    static Outcome refused(TargetPolicy.Target target, long checkMs) {
        return target.kind() == TargetPolicy.Refusal.LOOKUP_TIMEOUT ? failed(LOOKUP_TIMEOUT, checkMs)
                : failed(REFUSED_BY_POLICY, 0);
    }

    static Outcome failed(String reason, long durationMs) {
        return new Outcome(0, durationMs, reason, null);
    }

    boolean success() {
        return status >= 200 && status < 300;
    }

    boolean inactive() {
        return INACTIVE.equals(error);
    }

    /** The status code to record, null when there was no HTTP answer. */
    Integer statusCode() {
        return status <= 0 ? null : status;
    }

    /** The reason in one word: the coarse error, or {@code http_<status>}; for {@code last_error} and {@code webhook.exhausted}. */
    String reason() {
        return error != null ? error : "http_" + status;
    }
}
