package fr.osfria.security.key;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when a key registry is loaded. A broken file after a good load stays UP (the last good keys still
 * work, and every replica reads the same Secret, so going DOWN would turn a typo into an outage) but says so.
 */
@Readiness
@ApplicationScoped
public class KeyRegistryHealthCheck implements HealthCheck {

    private final KeyRegistry registry;

    public KeyRegistryHealthCheck(KeyRegistry registry) {
        this.registry = registry;
    }

    @Override
    public HealthCheckResponse call() {
        KeyRegistry.State state = registry.state();
        HealthCheckResponseBuilder builder = HealthCheckResponse.named("api-key-registry")
                .status(state.loaded())
                .withData("file", registry.file().toString())
                .withData("keys", state.keys().size());
        if (state.loaded()) {
            builder.withData("loadedAt", state.loadedAt().toString());
        }
        if (state.lastError() != null) {
            builder.withData("error", state.lastError())
                    .withData("errorAt", state.lastErrorAt().toString());
        }
        return builder.build();
    }
}
