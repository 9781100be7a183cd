package fr.osfria.webhook.subscription;

import fr.osfria.webhook.WebhookConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which URLs deliveries may go to: http(s) only, and not the machine itself, link-local addresses or cloud
 * metadata endpoints unless an operator lists the host. Checked when a subscription is saved and again before
 * every attempt (a name can be re-pointed after it was checked).
 */
@ApplicationScoped
public class TargetPolicy {

    private static final Set<String> METADATA = Set.of("169.254.169.254", "fd00:ec2:0:0:0:0:0:254", "100.100.100.200",
            "metadata.google.internal");

    private final List<String> allowed;
    private final java.util.Map<String, Checked> recent = new java.util.concurrent.ConcurrentHashMap<>();

    private record Checked(String refusal, long until) {
    }

    public TargetPolicy(WebhookConfig config) {
        this.allowed = config.allowedHosts().orElse(List.of()).stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
    }

    /**
     * {@link #refusal} for the delivery path: the DNS lookup runs on a worker thread, never on the event loop, and an
     * answer is reused for a minute (a re-pointed name is caught within that minute).
     */
    public io.smallrye.mutiny.Uni<String> check(String url) {
        long now = System.nanoTime();
        Checked known = recent.get(url);
        if (known != null && now - known.until() < 0) {
            return io.smallrye.mutiny.Uni.createFrom().item(known.refusal());
        }
        return io.smallrye.mutiny.Uni.createFrom().item(() -> refusal(url))
                .runSubscriptionOn(io.smallrye.mutiny.infrastructure.Infrastructure.getDefaultWorkerPool())
                .invoke(refusal -> {
                    if (recent.size() > 10_000) {
                        recent.clear(); // bounded: subscriptions are few, URLs fewer
                    }
                    recent.put(url, new Checked(refusal, now + 60_000_000_000L));
                });
    }

    /** @return why the URL is refused, or null when it may be used */
    public String refusal(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException | NullPointerException e) {
            return "not a valid URL";
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "only http and https URLs can receive webhooks";
        }
        String host = uri.getHost();
        if (host == null || host.isBlank()) {
            return "the URL has no host";
        }
        if (uri.getUserInfo() != null) {
            return "credentials in the URL are not accepted; use the signature to authenticate deliveries";
        }
        host = host.toLowerCase(Locale.ROOT);
        if (allowed.contains(host)) {
            return null;
        }
        if (METADATA.contains(host)) {
            return "cloud metadata endpoints cannot receive webhooks";
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        } catch (UnknownHostException e) {
            return null; // not resolvable from here (yet): attempts will fail and be retried, and checked again
        }
        for (InetAddress a : addresses) {
            if (allowed.contains(a.getHostAddress())) {
                continue;
            }
            if (METADATA.contains(a.getHostAddress())) {
                return "cloud metadata endpoints cannot receive webhooks";
            }
            if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isMulticastAddress()) {
                return "the host " + host + " is a loopback, link-local or wildcard address; an operator can allow it"
                        + " (osfria.webhook.allowed-hosts)";
            }
        }
        return null;
    }
}
