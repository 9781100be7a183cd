package fr.osfria.router.backend;

import fr.osfria.router.RouterConfig;
import io.quarkus.logging.Log;
import java.net.InetAddress;
import java.net.Inet6Address;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * Backends from the address records of one DNS name: a Kubernetes headless service answers with one record per
 * ready pod, so resolving it again shows vLLM pods as they come and go.
 */
final class DnsDiscovery {

    private final RouterConfig.Discovery config;

    DnsDiscovery(RouterConfig.Discovery config) {
        this.config = config;
        if (enabled()) {
            // the JVM caches lookups for 30 s by default: pods would be seen late
            java.security.Security.setProperty("networkaddress.cache.ttl", "1");
        }
    }

    boolean enabled() {
        return config.dnsName().filter(n -> !n.isBlank()).isPresent();
    }

    /** The backends the name resolves to now; none when it does not resolve (a service with no ready pod). */
    List<URI> resolve() {
        if (!enabled()) {
            return List.of();
        }
        String name = config.dnsName().get().trim();
        try {
            return Arrays.stream(InetAddress.getAllByName(name))
                    .map(a -> a instanceof Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress())
                    .distinct()
                    .sorted()
                    .map(host -> URI.create(config.scheme() + "://" + host + ":" + config.port()))
                    .toList();
        } catch (UnknownHostException e) {
            Log.debugf("%s does not resolve: no backend from DNS", name);
            return List.of();
        }
    }
}
