package fr.osfria.webhook.subscription;

import fr.osfria.webhook.WebhookConfig;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which URLs deliveries may go to: http(s) only, and not the machine itself, link-local addresses or cloud
 * metadata endpoints unless an operator lists the host. Private networks are allowed: on-prem receivers live there.
 *
 * <p>The host is resolved once per check, every address it resolves to is checked, and the caller connects to the
 * checked address ({@link Target#address()}): a name cannot be re-pointed between the check and the connection (DNS
 * rebinding). A name that does not resolve is refused. Resolution runs on a worker thread, never on the event loop.
 */
@ApplicationScoped
public class TargetPolicy {

    private static final Set<String> METADATA = Set.of("169.254.169.254", "fd00:ec2:0:0:0:0:0:254", "100.100.100.200",
            "metadata.google.internal");
    /** Literal addresses are parsed without a lookup, so they need no worker thread. */
    private static final Pattern LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}|.*:.*");

    /**
     * A checked target: where to connect ({@code address}, {@code port}) and what to name there ({@code host} for the
     * Host header, the TLS server name and the certificate check); or why it is refused.
     */
    public record Target(String refusal, String host, int port, boolean tls, String pathAndQuery, InetAddress address) {

        static Target refused(String reason) {
            return new Target(reason, null, 0, false, null, null);
        }

        public boolean allowed() {
            return refusal == null;
        }
    }

    private final List<String> allowed;
    private final HostResolver resolver;
    private final Vertx vertx;

    public TargetPolicy(WebhookConfig config, HostResolver resolver, Vertx vertx) {
        this.allowed = config.allowedHosts().orElse(List.of()).stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
        this.resolver = resolver;
        this.vertx = vertx;
    }

    /** Checks the URL and resolves its host, off the event loop; the item is emitted on the caller's context. */
    public Uni<Target> check(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException | NullPointerException e) {
            return refused("not a valid URL");
        }
        String problem = shape(uri);
        if (problem != null) {
            return refused(problem);
        }
        String host = bare(uri.getHost().toLowerCase(Locale.ROOT));
        if (LITERAL.matcher(host).matches()) {
            return Uni.createFrom().item(() -> resolveAndCheck(uri, host));
        }
        return vertx.executeBlocking(Uni.createFrom().item(() -> resolveAndCheck(uri, host)), false);
    }

    /** Static checks that need no lookup. */
    private static String shape(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "only http and https URLs can receive webhooks";
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            return "the URL has no host";
        }
        if (uri.getUserInfo() != null) {
            return "credentials in the URL are not accepted; use the signature to authenticate deliveries";
        }
        return null;
    }

    private Target resolveAndCheck(URI uri, String host) {
        boolean listed = allowed.contains(host);
        if (!listed && METADATA.contains(host)) {
            return Target.refused("cloud metadata endpoints cannot receive webhooks");
        }
        InetAddress[] addresses;
        try {
            addresses = resolver.resolve(host);
        } catch (UnknownHostException | RuntimeException e) {
            addresses = null;
        }
        if (addresses == null || addresses.length == 0) {
            return Target.refused("the host " + host + " does not resolve");
        }
        for (InetAddress a : addresses) {
            String refusal = listed || allowed.contains(a.getHostAddress()) ? null : refusal(host, a);
            if (refusal != null) {
                return Target.refused(refusal);
            }
        }
        boolean tls = uri.getScheme().equalsIgnoreCase("https");
        int port = uri.getPort() != -1 ? uri.getPort() : tls ? 443 : 80;
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        return new Target(null, host, port, tls, path, addresses[0]);
    }

    private static String refusal(String host, InetAddress a) {
        if (METADATA.contains(a.getHostAddress())) {
            return "cloud metadata endpoints cannot receive webhooks";
        }
        if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isMulticastAddress()) {
            return "the host " + host + " is a loopback, link-local or wildcard address; an operator can allow it"
                    + " (osfria.webhook.allowed-hosts)";
        }
        return null;
    }

    private static String bare(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static Uni<Target> refused(String reason) {
        return Uni.createFrom().item(Target.refused(reason));
    }
}
