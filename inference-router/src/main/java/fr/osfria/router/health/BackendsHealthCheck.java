package fr.osfria.router.health;

import fr.osfria.router.backend.BackendPool;
import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * Every backend's state and last error at {@code /q/health/group/backends}, for operators inside the cluster. A
 * group of its own, so it is neither in {@code /q/health} (the entry port's public summary) nor in readiness (a
 * router without backends still answers its clients, with 503 {@code no_healthy_backend}).
 */
@HealthGroup("backends")
@ApplicationScoped
public class BackendsHealthCheck implements HealthCheck {

    private final BackendPool pool;

    public BackendsHealthCheck(BackendPool pool) {
        this.pool = pool;
    }

    @Override
    public HealthCheckResponse call() {
        RouterHealthResource.Detail detail = RouterHealthResource.detail(pool);
        HealthCheckResponseBuilder b = HealthCheckResponse.named("inference-backends")
                .status(detail.healthyBackends() > 0)
                .withData("healthy_backends", detail.healthyBackends());
        for (RouterHealthResource.BackendView view : detail.backends()) {
            b.withData(view.id(), view.healthy() ? "healthy" : "down: " + view.error());
        }
        return b.build();
    }
}
