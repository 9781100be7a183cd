package fr.osfria.webhook.subscription;

import fr.osfria.security.network.HostResolver;
import fr.osfria.security.network.TargetPolicy;
import fr.osfria.webhook.WebhookConfig;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.List;

/** The platform's network policy for webhook targets, with the operator's exceptions for them. */
@ApplicationScoped
public class WebhookTargets {

    static final TargetPolicy.Wording WORDING = new TargetPolicy.Wording("receive webhooks",
            "use the signature to authenticate deliveries", "osfria.webhook.allowed-hosts");

    @Produces
    @Singleton
    TargetPolicy targets(WebhookConfig config, HostResolver resolver, Vertx vertx) {
        return new TargetPolicy(config.allowedHosts().orElse(List.of()), WORDING, resolver, vertx);
    }
}
