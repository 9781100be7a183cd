package fr.osfria.security.network;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * Which URLs the platform may connect to on a caller's word (webhook targets, files submitted by URL): http(s) only,
 * and not the machine itself, link-local addresses or cloud metadata endpoints unless an operator lists the host.
 * Private networks are allowed: on-prem peers live there. Each service that connects to such URLs builds one with
 * its own operator list and wording; the rule itself lives here only.
 *
 * <p>Each check takes one set of addresses for the host (looked up, or a recent answer reused), every one of them is
 * checked, and the caller connects to the checked address ({@link Target#address()}): a name cannot be re-pointed between the check and the connection (DNS
 * rebinding). A name that does not resolve is refused ({@link Refusal#UNRESOLVED}); so is one not looked up within
 * {@link Lookups#deadline} (or whose resolver gave up after half of it or 5 s, the shorter), but as
 * {@link Refusal#LOOKUP_TIMEOUT}: a name server, the platform's or the domain's, did not answer, the URL may be fine,
 * and a caller tells its users to try again rather than that the URL is wrong.
 *
 * <p>Every check names its party: whose word the URL is (a subscription's owner, an application). Names are looked up
 * on the policy's own threads, never on the event loop or a shared worker pool, and no party's lookups take more than
 * {@link Lookups#perParty} of them at once: a party whose names hang (a black-holed name server) delays only its own
 * checks. A name being looked up is not looked up again meanwhile, and an answer is reused for
 * {@link Lookups#remembered} (the JVM's own cache keeps it as long), without any thread. At most
 * {@link Lookups#threads} lookups run at once: filling them takes {@code threads / perParty} parties with hanging
 * names at the same time; then every party's lookups take free threads in turn, and a check waits at most the
 * deadline. The rest is in {@link NameLookups}.
 */
public class TargetPolicy implements AutoCloseable {

    private static final Set<String> METADATA = Set.of("169.254.169.254", "fd00:ec2:0:0:0:0:0:254", "100.100.100.200",
            "metadata.google.internal");
    /** Literal addresses are parsed without a lookup, so they need no worker thread. */
    private static final Pattern LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}|.*:.*");

    /**
     * Why a URL is refused, for a caller that words its own answer (or keeps it coarse). {@code UNRESOLVED}: the
     * resolver answered that the name does not exist (or failed at once); {@code LOOKUP_TIMEOUT}: no answer within
     * the deadline, the resolver gave up after half of it or 5 s (the shorter; or failed at once while the JVM
     * still cached that give-up), or the policy closed first: nothing is known of the name and the same URL may pass
     * later.
     */
    public enum Refusal {
        NOT_A_URL, SCHEME, NO_HOST, CREDENTIALS, METADATA, UNRESOLVED, LOOKUP_TIMEOUT, LOCAL_ADDRESS
    }

    /**
     * How refusals are worded to the owner's users: what the URL is for ({@code "receive webhooks"}), what to do
     * instead of credentials in the URL, and the setting by which an operator allows a local host.
     */
    public record Wording(String use, String credentials, String allowSetting) {
    }

    /**
     * A checked target: where to connect ({@code address}, {@code port}) and what to name there ({@code host} for the
     * Host header, the TLS server name and the certificate check); or why it is refused ({@code refusal}, worded,
     * and {@code kind}).
     */
    public record Target(String refusal, String host, int port, boolean tls, String pathAndQuery, InetAddress address,
                         Refusal kind) {

        static Target refused(Refusal kind, String reason) {
            return new Target(reason, null, 0, false, null, null, kind);
        }

        public boolean allowed() {
            return refusal == null;
        }
    }

    /**
     * How names are looked up: at most {@code perParty} lookups of one party at once and {@code threads} in all; a
     * check waits at most {@code deadline} for a lookup; an answer is reused for {@code remembered} (zero: looked up
     * again at every check, unless a lookup of the name is under way), a quick failure for at most 5 s (a slow one
     * is not remembered).
     */
    public record Lookups(int perParty, int threads, Duration deadline, Duration remembered) {
    }

    private final List<String> allowed;
    private final Wording wording;
    private final NameLookups lookups;

    /**
     * @param allowedLocal hosts (names or addresses) that may be reached although they are loopback, link-local,
     *                     wildcard or cloud metadata: the operator's exceptions
     */
    public TargetPolicy(Collection<String> allowedLocal, Wording wording, HostResolver resolver, Lookups lookups) {
        this.allowed = allowedLocal.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
        this.wording = wording;
        this.lookups = new NameLookups(resolver, new NameLookups.Limits(lookups.perParty(), lookups.threads(),
                lookups.deadline(), lookups.remembered()));
    }

    /**
     * Lookups that did not answer within their deadline, or whose resolver gave up (after half of it or 5 s), since
     * the start (their checks were refused as {@code LOOKUP_TIMEOUT}).
     */
    public long lookupsTimedOut() {
        return lookups.timedOut();
    }

    /** Runs no more lookups and answers the waiting ones as not looked up in time, without waiting for those that hang. */
    @Override
    public void close() {
        lookups.close();
    }

    /**
     * Checks the URL on the word of {@code party} (whose lookups are bounded together) and resolves its host, off
     * the event loop; the item is emitted on the caller's context.
     */
    public Uni<Target> check(String url, String party) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException | NullPointerException e) {
            return refused(Refusal.NOT_A_URL, "not a valid URL");
        }
        Target problem = shape(uri);
        if (problem != null) {
            return Uni.createFrom().item(problem);
        }
        String host = host(uri);
        boolean listed = allowed.contains(host);
        if (!listed && METADATA.contains(host)) {
            return refused(Refusal.METADATA, "cloud metadata endpoints cannot " + wording.use());
        }
        if (LITERAL.matcher(host).matches()) {
            return Uni.createFrom().item(() -> judged(uri, host, literal(host)));
        }
        return Uni.createFrom().emitter(emitter -> {
            Context context = io.vertx.core.Vertx.currentContext();
            CompletableFuture<InetAddress[]> answer = lookups.resolve(host, party);
            if (answer.isDone() || context == null) { // remembered (or no context to return to): on this thread
                answer.whenComplete((addresses, late) -> verdict(emitter, uri, host, addresses, late));
            } else {
                answer.whenComplete((addresses, late) -> context.runOnContext(v -> verdict(emitter, uri, host, addresses,
                        late)));
            }
        });
    }

    /**
     * Emits the verdict, or the failure to reach one: a waiting caller (a delivery slot) must always hear back.
     * {@code late}: the lookup gave no answer in time (its deadline, or the policy closed).
     */
    private void verdict(UniEmitter<? super Target> emitter, URI uri, String host, InetAddress[] addresses,
            Throwable late) {
        Target target;
        try {
            target = late != null ? Target.refused(Refusal.LOOKUP_TIMEOUT, "the host " + host
                    + " could not be looked up in time; try again later") : judged(uri, host, addresses);
        } catch (RuntimeException | Error e) {
            emitter.fail(e);
            return;
        }
        emitter.complete(target);
    }

    /** The URL's host as this policy checks and connects to it: lower case, an IPv6 literal without brackets. */
    public static String host(URI uri) {
        return bare(uri.getHost().toLowerCase(Locale.ROOT));
    }

    /** Static checks that need no lookup. */
    private Target shape(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return Target.refused(Refusal.SCHEME, "only http and https URLs can " + wording.use());
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            return Target.refused(Refusal.NO_HOST, "the URL has no host");
        }
        if (uri.getRawUserInfo() != null) {
            return Target.refused(Refusal.CREDENTIALS, "credentials in the URL are not accepted; " + wording.credentials());
        }
        return null;
    }

    /** A literal address, parsed without a lookup; null if it is none after all. */
    private static InetAddress[] literal(String host) {
        try {
            return InetAddress.getAllByName(host);
        } catch (UnknownHostException | RuntimeException e) {
            return null;
        }
    }

    /** The verdict on the URL, given what its host resolved to ({@code null}: nothing). */
    private Target judged(URI uri, String host, InetAddress[] addresses) {
        boolean listed = allowed.contains(host);
        if (addresses == null || addresses.length == 0) {
            return Target.refused(Refusal.UNRESOLVED, "the host " + host + " does not resolve");
        }
        for (InetAddress a : addresses) {
            Target refusal = listed || allowed.contains(a.getHostAddress()) ? null : refusal(host, a);
            if (refusal != null) {
                return refusal;
            }
        }
        boolean tls = uri.getScheme().equalsIgnoreCase("https");
        int port = uri.getPort() != -1 ? uri.getPort() : tls ? 443 : 80;
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        return new Target(null, host, port, tls, path, addresses[0], null);
    }

    private Target refusal(String host, InetAddress a) {
        if (METADATA.contains(a.getHostAddress())) {
            return Target.refused(Refusal.METADATA, "cloud metadata endpoints cannot " + wording.use());
        }
        if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isMulticastAddress()) {
            return Target.refused(Refusal.LOCAL_ADDRESS, "the host " + host + " is a loopback, link-local or wildcard"
                    + " address; an operator can allow it (" + wording.allowSetting() + ")");
        }
        if (embedsIpv4(a)) {
            return Target.refused(Refusal.LOCAL_ADDRESS, "the host " + host + " is an IPv6 address that embeds an IPv4"
                    + " one (IPv4-compatible or NAT64), which could be any address; an operator can allow it ("
                    + wording.allowSetting() + ")");
        }
        return null;
    }

    /**
     * IPv4-compatible ({@code ::a.b.c.d}, {@code ::7f00:1} is loopback) and NAT64 ({@code 64:ff9b::/96}) addresses
     * reach an IPv4 address the checks above never see (IPv4-mapped ones are already read as IPv4 by Java).
     */
    static boolean embedsIpv4(InetAddress a) {
        if (!(a instanceof java.net.Inet6Address)) {
            return false;
        }
        byte[] b = a.getAddress();
        byte[] nat64 = {0, 0x64, (byte) 0xff, (byte) 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
        boolean compatible = true;
        boolean translated = true;
        for (int i = 0; i < 12; i++) {
            compatible &= b[i] == 0;
            translated &= b[i] == nat64[i];
        }
        return compatible || translated;
    }

    private static String bare(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static Uni<Target> refused(Refusal kind, String reason) {
        return Uni.createFrom().item(Target.refused(kind, reason));
    }
}
