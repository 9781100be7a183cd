package fr.osfria.router.backend;

import java.net.URI;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One OpenAI-compatible server: what the last probe saw (models, health, vLLM's own load figures), the requests
 * this router has in flight on it, and its circuit breaker. Probe fields are replaced by the probe; counters are
 * live.
 */
public final class Backend {

    private final URI url;
    private final String id;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final CircuitBreaker breaker;

    private volatile boolean healthy;
    private volatile Set<String> models = Set.of();
    private volatile String lastError = "not probed yet";
    private volatile VllmLoad load = VllmLoad.UNKNOWN;

    public Backend(URI url, CircuitBreaker breaker) {
        this.url = url;
        this.id = url.getHost() + ":" + port(url);
        this.breaker = breaker;
    }

    private static int port(URI url) {
        return url.getPort() > 0 ? url.getPort() : ("https".equals(url.getScheme()) ? 443 : 80);
    }

    public URI url() {
        return url;
    }

    public String id() {
        return id;
    }

    public boolean healthy() {
        return healthy;
    }

    /** Models this backend listed at its last successful probe (kept while it is down, to tell 503 from 404). */
    public Set<String> models() {
        return models;
    }

    public String lastError() {
        return lastError;
    }

    public VllmLoad vllmLoad() {
        return load;
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    public int inFlight() {
        return inFlight.get();
    }

    void probed(Set<String> models, VllmLoad load) {
        this.models = Set.copyOf(models);
        this.load = load;
        this.lastError = null;
        this.healthy = true;
    }

    void probeFailed(String error) {
        this.lastError = error;
        this.healthy = false;
        this.load = VllmLoad.UNKNOWN;
    }

    /** Healthy and listing the model; the circuit breaker is checked separately. */
    public boolean serves(String model) {
        return healthy && models.contains(model);
    }

    /**
     * Live load: this router's requests in flight, or vLLM's running count when other routers add to it, plus what
     * waits in vLLM's own queue.
     */
    public int load() {
        VllmLoad v = load;
        return Math.max(inFlight.get(), v.running()) + v.waiting();
    }

    public void acquired() {
        inFlight.incrementAndGet();
    }

    public void released() {
        inFlight.decrementAndGet();
    }

    @Override
    public String toString() {
        return id;
    }
}
