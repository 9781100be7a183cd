package fr.osfria.ingest.appkafka.fetch;

import java.time.Duration;

/**
 * What a fetch gave: the file's size, or why there is no file. The reasons go to the application as they are, so
 * they are coarse on purpose: a code and a fixed sentence, never the lookup's or the socket's own error (they would
 * map the internal network), and the same words for a host that does not resolve and for one that resolves to an
 * address the policy refuses: an application must not probe which internal names exist by the difference.
 */
public record Fetched(long bytes, String failure) {

    public static final String NOT_ENABLED = "url_not_allowed: files by URL are not enabled on this platform (the"
            + " operator lists the hosts they may come from: osfria.ingest.fetch.allowed-hosts)";
    public static final String NOT_ALLOWED = "url_not_allowed: a file URL must be http or https, without credentials,"
            + " under one of the URL prefixes the operator gives this application's key, on a host and port the"
            + " operator allows (osfria.ingest.fetch.allowed-hosts)";
    public static final String REFUSED = "url_refused: the URL's host may not be reached under the platform's network"
            + " policy";
    /**
     * The host could not be looked up in time (a name server, the platform's or the domain's, did not answer): the
     * URL may be fine. Named apart from {@link #REFUSED}, unlike the two cases above, as it tells nothing more of the
     * internal network: the application already saw it, by the time its answer took (the lookup deadline, or 5 s or
     * half the deadline when the resolver gave up, or an earlier such wait for the same name) or, while another
     * fetch's lookup of the same name hangs, by an answer at once instead of a wait, which already showed that the
     * name was being looked up.
     */
    public static final String LOOKUP_TIMEOUT = "url_lookup_timeout: the URL's host could not be looked up in time;"
            + " send it again later";
    public static final String UNREACHABLE = "fetch_failed: the file could not be fetched from its URL";
    public static final String BUSY = "fetch_busy: too many files by URL of this application are waiting to be"
            + " fetched; send it again later";

    static Fetched ok(long bytes) {
        return new Fetched(bytes, null);
    }

    static Fetched failed(String reason) {
        return new Fetched(-1, reason);
    }

    static Fetched timedOut(Duration deadline) {
        return failed("fetch_timeout: the file was not fetched within " + deadline.toSeconds() + " s");
    }

    static Fetched redirected(int status) {
        return failed("redirect_refused: the server answered a redirect (HTTP " + status + "); redirects are not"
                + " followed");
    }

    static Fetched status(int status) {
        return failed("http_" + status + ": the server answered HTTP " + status);
    }

    static Fetched tooLarge(long limit) {
        return failed("file_too_large: the file is over the limit of " + limit + " bytes");
    }

    public boolean ok() {
        return failure == null;
    }
}
