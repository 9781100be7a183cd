package fr.osfria.webhook.delivery;

import fr.osfria.security.network.HostResolver;
import io.quarkus.test.junit.QuarkusTestProfile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A resolver that answers {@code localhost} only after {@link #delayMillis} (a slow DNS server, or the worker pool's
 * queue before it), with leases of 6 s: an attempt can spend most of its lease before it is sent.
 */
public class SlowDns implements QuarkusTestProfile {

    static volatile long delayMillis;
    static final AtomicInteger LOOKUPS = new AtomicInteger();

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("osfria.webhook.lease", "6s");
    }

    @Override
    public Set<Class<?>> getEnabledAlternatives() {
        return Set.of(Resolver.class);
    }

    @Alternative
    @ApplicationScoped
    public static class Resolver implements HostResolver {

        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            if ("localhost".equals(host)) {
                LOOKUPS.incrementAndGet();
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return InetAddress.getAllByName(host);
        }
    }
}
