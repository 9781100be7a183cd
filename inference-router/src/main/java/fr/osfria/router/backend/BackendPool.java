package fr.osfria.router.backend;

import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventTypes;
import fr.osfria.events.model.ModelAvailability;
import fr.osfria.router.RouterConfig;
import fr.osfria.security.messaging.EventMessages;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.ext.web.client.WebClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * The backends and the models each serves, kept current by polling {@code /v1/models}. Publishes
 * {@code model.loaded} when a model first becomes available on the pool and {@code model.unloaded} when the
 * last backend serving it goes away.
 */
@ApplicationScoped
public class BackendPool {

    public static final String PUBLIC_EVENTS = "public-events";
    private static final String SOURCE = "/osfria/inference-router";

    private final RouterConfig config;
    private final Vertx vertx;
    private final MutinyEmitter<String> events;
    private volatile Map<URI, Backend> backends = Map.of();
    private WebClient client;
    private long timerId = -1;
    private boolean probing;

    public BackendPool(RouterConfig config, Vertx vertx, @Channel(PUBLIC_EVENTS) MutinyEmitter<String> events) {
        this.config = config;
        this.vertx = vertx;
        this.events = events;
    }

    void start(@Observes StartupEvent event) {
        Map<URI, Backend> initial = new LinkedHashMap<>();
        for (String url : config.backends().orElse(List.of())) {
            URI uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            initial.put(uri, new Backend(uri, false, Set.of(), "not probed yet"));
        }
        backends = Map.copyOf(initial);
        client = WebClient.create(vertx, new WebClientOptions()
                .setConnectTimeout((int) config.probeTimeout().toMillis())
                .setIdleTimeout((int) config.probeTimeout().toSeconds() + 1));
        probeAll();
        timerId = vertx.setPeriodic(config.probeInterval().toMillis(), id -> probeAll());
    }

    void stop(@Observes ShutdownEvent event) {
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
        if (client != null) {
            client.close();
        }
    }

    public List<Backend> backends() {
        return List.copyOf(backends.values());
    }

    /** Model name → ids of the healthy backends serving it. */
    public Map<String, Set<String>> models() {
        return ModelChanges.servers(backends.values());
    }

    /** Probes every backend once, then publishes what changed. Overlapping rounds are skipped, not queued. */
    synchronized void probeAll() {
        if (probing || backends.isEmpty()) {
            return;
        }
        probing = true;
        Map<URI, Backend> before = backends;
        Uni.join().all(before.keySet().stream().map(this::probe).toList()).andCollectFailures()
                .chain(probed -> {
                    Map<URI, Backend> after = new LinkedHashMap<>();
                    probed.forEach(b -> after.put(b.url(), b));
                    backends = Map.copyOf(after);
                    return publish(ModelChanges.between(before.values(), after.values()));
                })
                .onTermination().invoke(() -> {
                    synchronized (this) {
                        probing = false;
                    }
                })
                .subscribe().with(x -> { }, e -> Log.errorf(e, "backend probe round failed"));
    }

    private Uni<Backend> probe(URI url) {
        return client.getAbs(url + "/v1/models")
                .timeout(config.probeTimeout().toMillis())
                .send()
                .map(response -> {
                    if (response.statusCode() != 200) {
                        return new Backend(url, false, Set.of(), "/v1/models answered " + response.statusCode());
                    }
                    JsonObject body = response.bodyAsJsonObject();
                    Set<String> models = new LinkedHashSet<>();
                    body.getJsonArray("data", new io.vertx.core.json.JsonArray())
                            .forEach(m -> models.add(((JsonObject) m).getString("id")));
                    models.remove(null);
                    return new Backend(url, true, Set.copyOf(models), null);
                })
                .onFailure().recoverWithItem(e -> new Backend(url, false, Set.of(), String.valueOf(e.getMessage())))
                .invoke(b -> {
                    Backend was = backends.get(url);
                    if (was != null && was.healthy() != b.healthy()) {
                        if (b.healthy()) {
                            Log.infof("backend %s is up, serving %s", b.id(), b.models());
                        } else {
                            Log.warnf("backend %s is down: %s", b.id(), b.lastError());
                        }
                    }
                });
    }

    private Uni<Void> publish(ModelChanges changes) {
        List<Uni<Void>> sends = new java.util.ArrayList<>();
        changes.loaded().forEach(c -> sends.add(send(EventTypes.MODEL_LOADED, c)));
        changes.unloaded().forEach(c -> sends.add(send(EventTypes.MODEL_UNLOADED, c)));
        return sends.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(sends).andCollectFailures().replaceWithVoid();
    }

    private Uni<Void> send(String type, ModelChanges.Change change) {
        Log.infof("%s %s (backend %s)", type, change.model(), change.backend());
        return events.sendMessage(EventMessages.of(CloudEvent.of(SOURCE, type, change.model(),
                new ModelAvailability(change.model(), change.backend(), change.backends()))));
    }

}
