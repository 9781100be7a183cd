package fr.osfria.webhook.delivery;

import fr.osfria.security.network.HostResolver;
import io.quarkus.test.junit.QuarkusTestProfile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A resolver that answers {@code localhost} only after {@link #delayMillis} (a slow DNS server), with leases of 6 s
 * and attempts that time out after 5 s: an attempt can spend most of its lease before it is sent. Lookups wait 10 s.
 * Names under {@code .blackhole.test} are loopback, or, while {@link #blackHole} is set, hang until it is released (a black-holed name server). No answer is reused: every
 * check meets the resolver (unless a lookup of its name is under way). A key may have 30 subscriptions.
 */
public class SlowDns implements QuarkusTestProfile {

    static volatile long delayMillis;
    static final AtomicInteger LOOKUPS = new AtomicInteger();
    static volatile CountDownLatch blackHole;
    /** Lookups under {@code .blackhole.test} hanging now, and the most at once. */
    static final AtomicInteger HANGING = new AtomicInteger();
    static final AtomicInteger MOST_HANGING = new AtomicInteger();

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("osfria.webhook.lease", "6s", "osfria.webhook.lookups.remembered", "0s",
                // room for a slow receiver's answer on a starved machine (the suite's 2 s left 0.2 s of it)
                "osfria.webhook.timeout", "5s",
                "osfria.webhook.max-subscriptions-per-key", "30",
                // twice the slowest answer here (4.5 s), counted from the ask: a slow answer must not meet the deadline
                "osfria.webhook.lookups.deadline", "10s");
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
            CountDownLatch hole = blackHole;
            if (host.endsWith(".blackhole.test")) {
                if (hole != null) {
                    MOST_HANGING.accumulateAndGet(HANGING.incrementAndGet(), Math::max);
                    try {
                        hole.await(2, TimeUnit.MINUTES); // the JVM's lookups cannot be interrupted either
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        HANGING.decrementAndGet();
                    }
                }
                return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
            }
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
