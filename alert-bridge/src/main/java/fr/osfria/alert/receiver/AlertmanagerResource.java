package fr.osfria.alert.receiver;

import fr.osfria.alert.AlertBridgeConfig;
import fr.osfria.alert.publish.AlertPublisher;
import fr.osfria.events.alert.Alert;
import fr.osfria.security.error.ErrorResponses;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Alertmanager {@code webhook_config} receiver. Answers only once every new alert is on the broker; on failure
 * it answers 503 so that Alertmanager retries.
 */
@Path("/v1/alerts/alertmanager")
@Consumes(MediaType.APPLICATION_JSON)
@Produces(MediaType.APPLICATION_JSON)
public class AlertmanagerResource {

    /** Answer: how many alerts came in and how many were new (published). */
    public record Received(int received, int published) {
    }

    private final AlertPublisher publisher;
    private final AlertDeduplicator dedup;

    public AlertmanagerResource(AlertPublisher publisher, AlertBridgeConfig config) {
        this.publisher = publisher;
        this.dedup = new AlertDeduplicator(config.dedupCapacity());
    }

    @POST
    @RolesAllowed({"admin", "alertmanager"})
    public Uni<Response> receive(@Valid @NotNull AlertmanagerPayload payload) {
        List<Alert> fresh = new ArrayList<>();
        for (AlertmanagerPayload.AlertmanagerAlert a : payload.alerts()) {
            Alert alert = toAlert(a);
            if (dedup.firstTime(alert.fingerprint(), String.valueOf(alert.startsAt()), alert.status())) {
                fresh.add(alert);
            }
        }
        if (fresh.isEmpty()) {
            return Uni.createFrom().item(Response.ok(new Received(payload.alerts().size(), 0)).build());
        }
        return Uni.join().all(fresh.stream().map(publisher::publish).toList()).andCollectFailures()
                .replaceWith(Response.ok(new Received(payload.alerts().size(), fresh.size())).build())
                .onFailure().recoverWithItem(e -> {
                    fresh.forEach(a -> dedup.forget(a.fingerprint(), String.valueOf(a.startsAt()), a.status()));
                    Log.errorf(e, "could not publish %d alerts", fresh.size());
                    return ErrorResponses.of(503, "alerts could not be published; retry later", "publish_failed");
                });
    }

    static Alert toAlert(AlertmanagerPayload.AlertmanagerAlert a) {
        Map<String, String> annotations = a.annotations() == null ? Map.of() : a.annotations();
        String name = a.labels().getOrDefault("alertname", "unnamed");
        // Alertmanager sends endsAt 0001-01-01 for alerts still firing
        java.time.Instant endsAt = a.endsAt() != null && a.endsAt().getEpochSecond() > 0 ? a.endsAt() : null;
        return new Alert(name, a.status(), a.labels().get("severity"), annotations.get("summary"),
                annotations.get("description"), a.labels(), annotations, a.startsAt(), endsAt, a.fingerprint(),
                a.generatorUrl());
    }
}
