package fr.osfria.router.backend;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventTypes;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.router.RouterConfig;
import fr.osfria.security.messaging.EventMessages;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.ext.web.client.WebClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * The backends — from configuration and from DNS (a Kubernetes headless service) — and what each serves, kept
 * current by polling {@code /v1/models} and vLLM's {@code /metrics}. Publishes {@code model.loaded} when a model
 * first becomes available on the pool and {@code model.unloaded} when the last backend serving it goes away.
 */
@ApplicationScoped
public class BackendPool {

    public static final String PUBLIC_EVENTS = "public-events";

    private final RouterConfig config;
    private final Vertx vertx;
    private final MutinyEmitter<String> events;
    private final MeterRegistry meters;
    private final DnsDiscovery dns;
    private volatile Map<URI, Backend> backends = Map.of();
    private final Map<URI, List<Meter>> backendMeters = new LinkedHashMap<>();
    private Map<String, Set<String>> announced = Map.of();
    private WebClient client;
    private final List<Long> timers = new ArrayList<>();
    private boolean probing;

    public BackendPool(RouterConfig config, Vertx vertx, @Channel(PUBLIC_EVENTS) MutinyEmitter<String> events,
                       MeterRegistry meters) {
        this.config = config;
        this.vertx = vertx;
        this.events = events;
        this.meters = meters;
        this.dns = new DnsDiscovery(config.discovery());
    }

    void start(@Observes StartupEvent event) {
        client = WebClient.create(vertx, new WebClientOptions()
                .setConnectTimeout((int) config.probeTimeout().toMillis())
                .setIdleTimeout((int) config.probeTimeout().toSeconds() + 1));
        Set<URI> initial = new LinkedHashSet<>(staticUrls());
        initial.addAll(dns.resolve());
        setMembers(initial);
        probeAll();
        timers.add(vertx.setPeriodic(config.probeInterval().toMillis(), id -> probeAll()));
        if (dns.enabled()) {
            timers.add(vertx.setPeriodic(config.discovery().interval().toMillis(), id -> rediscover()));
        }
    }

    void stop(@Observes ShutdownEvent event) {
        timers.forEach(vertx::cancelTimer);
        if (client != null) {
            client.close();
        }
    }

    private List<URI> staticUrls() {
        return config.backends().orElse(List.of()).stream()
                .map(String::trim).filter(s -> !s.isEmpty())
                .map(url -> URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url))
                .toList();
    }

    /** DNS lookups block, so they run on a worker thread; the pool changes on the event loop's next probe. */
    private void rediscover() {
        vertx.executeBlocking(Uni.createFrom().item(dns::resolve))
                .subscribe().with(found -> {
                    Set<URI> members = new LinkedHashSet<>(staticUrls());
                    members.addAll(found);
                    if (!members.equals(backends.keySet())) {
                        setMembers(members);
                        probeAll();
                    }
                }, e -> Log.warnf("DNS discovery of %s failed: %s", config.discovery().dnsName().orElse(""), e.getMessage()));
    }

    private synchronized void setMembers(Set<URI> members) {
        Map<URI, Backend> next = new LinkedHashMap<>();
        for (URI url : members) {
            Backend existing = backends.get(url);
            if (existing != null) {
                next.put(url, existing);
            } else {
                Backend added = new Backend(url, new CircuitBreaker(config.circuitBreaker().failures(),
                        config.circuitBreaker().ejectFor(), config.circuitBreaker().maxEjectFor()));
                next.put(url, added);
                backendMeters.put(url, registerMeters(added));
                if (!backends.isEmpty()) {
                    Log.infof("backend %s joined the pool", added.id());
                }
            }
        }
        for (URI gone : backends.keySet()) {
            if (!next.containsKey(gone)) {
                Log.infof("backend %s left the pool", backends.get(gone).id());
                backendMeters.remove(gone).forEach(meters::remove);
            }
        }
        backends = Map.copyOf(next);
    }

    private List<Meter> registerMeters(Backend b) {
        return List.of(
                Gauge.builder("osfria.router.backend.in.flight", b, Backend::inFlight).tag("backend", b.id())
                        .description("Requests this router has in flight on the backend").register(meters),
                Gauge.builder("osfria.router.backend.healthy", b, x -> x.healthy() ? 1 : 0).tag("backend", b.id())
                        .description("1 when the backend's last probe succeeded").register(meters),
                Gauge.builder("osfria.router.backend.ejected", b, x -> x.breaker().ejected(System.nanoTime()) ? 1 : 0)
                        .tag("backend", b.id()).description("1 while the circuit breaker keeps the backend out")
                        .register(meters),
                Gauge.builder("osfria.router.backend.queue.depth", b, x -> x.vllmLoad().waiting()).tag("backend", b.id())
                        .description("Requests waiting in the backend's own queue (vLLM num_requests_waiting)")
                        .register(meters),
                Gauge.builder("osfria.router.backend.running", b, x -> x.vllmLoad().running()).tag("backend", b.id())
                        .description("Requests the backend runs (vLLM num_requests_running)").register(meters),
                Gauge.builder("osfria.router.backend.kv.cache.usage", b, x -> x.vllmLoad().kvCacheUsage())
                        .tag("backend", b.id()).description("vLLM KV-cache usage, 0 to 1").register(meters));
    }

    public List<Backend> backends() {
        return List.copyOf(backends.values());
    }

    /** Model name → ids of the healthy backends serving it. */
    public Map<String, Set<String>> models() {
        return ModelChanges.servers(backends.values());
    }

    /** Whether any backend, up or down, has listed the model: tells "no such model" (404) from "none up" (503). */
    public boolean known(String model) {
        for (Backend b : backends.values()) {
            if (b.models().contains(model)) {
                return true;
            }
        }
        return false;
    }

    public boolean anyHealthy() {
        return backends.values().stream().anyMatch(Backend::healthy);
    }

    /** Probes every backend once, then publishes what changed. Overlapping rounds are skipped, not queued. */
    synchronized void probeAll() {
        if (probing || backends.isEmpty()) {
            return;
        }
        probing = true;
        List<Backend> round = List.copyOf(backends.values());
        Uni.join().all(round.stream().map(this::probe).toList()).andCollectFailures()
                .chain(probed -> {
                    Map<String, Set<String>> now = models();
                    ModelChanges changes;
                    synchronized (this) {
                        changes = ModelChanges.between(announced, now);
                        announced = now;
                    }
                    return publish(changes);
                })
                .onTermination().invoke(() -> {
                    synchronized (this) {
                        probing = false;
                    }
                })
                .subscribe().with(x -> { }, e -> Log.errorf(e, "backend probe round failed"));
    }

    private Uni<Backend> probe(Backend b) {
        boolean wasHealthy = b.healthy();
        Uni<Set<String>> models = client.getAbs(b.url() + "/v1/models")
                .timeout(config.probeTimeout().toMillis())
                .send()
                .map(response -> {
                    if (response.statusCode() != 200) {
                        throw new IllegalStateException("/v1/models answered " + response.statusCode());
                    }
                    Set<String> names = new LinkedHashSet<>();
                    response.bodyAsJsonObject().getJsonArray("data", new JsonArray())
                            .forEach(m -> names.add(((JsonObject) m).getString("id")));
                    names.remove(null);
                    return names;
                });
        // vLLM's load figures are a bonus: a server without /metrics is still usable
        Uni<VllmLoad> load = client.getAbs(b.url() + "/metrics")
                .timeout(config.probeTimeout().toMillis())
                .send()
                .map(r -> r.statusCode() == 200 ? VllmLoad.parse(r.bodyAsString()) : VllmLoad.UNKNOWN)
                .onFailure().recoverWithItem(VllmLoad.UNKNOWN);
        return Uni.combine().all().unis(models, load).asTuple()
                .map(t -> {
                    b.probed(t.getItem1(), t.getItem2());
                    return b;
                })
                .onFailure().recoverWithItem(e -> {
                    b.probeFailed(String.valueOf(e.getMessage()));
                    return b;
                })
                .invoke(x -> {
                    if (wasHealthy != b.healthy()) {
                        if (b.healthy()) {
                            Log.infof("backend %s is up, serving %s", b.id(), b.models());
                        } else {
                            Log.warnf("backend %s is down: %s", b.id(), b.lastError());
                        }
                    }
                });
    }

    /** A request saw the backend refuse connections: take it out now rather than at the next probe. */
    public void markDown(Backend b, String reason) {
        if (b.healthy()) {
            b.probeFailed(reason);
            Log.warnf("backend %s is down: %s", b.id(), reason);
        }
    }

    private Uni<Void> publish(ModelChanges changes) {
        List<Uni<Void>> sends = new ArrayList<>();
        changes.loaded().forEach(c -> sends.add(send(EventTypes.MODEL_LOADED, c)));
        changes.unloaded().forEach(c -> sends.add(send(EventTypes.MODEL_UNLOADED, c)));
        return sends.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(sends).andCollectFailures().replaceWithVoid();
    }

    private Uni<Void> send(String type, ModelChanges.Change change) {
        Log.infof("%s %s (backend %s)", type, change.model(), change.backend());
        return events.sendMessage(EventMessages.of(CloudEvent.of(RouterConfig.EVENT_SOURCE, type, change.model(),
                new ModelAvailability(change.model(), change.backend(), change.backends()))));
    }
}
