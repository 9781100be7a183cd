package fr.osfria.webhook.subscription;

import fr.osfria.security.network.HostResolver;
import fr.osfria.security.network.TargetPolicy;
import fr.osfria.webhook.WebhookConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.List;

/** The platform's network policy for webhook targets, with the operator's exceptions for them; lookups bounded per owner. */
@ApplicationScoped
public class WebhookTargets {

    static final TargetPolicy.Wording WORDING = new TargetPolicy.Wording("receive webhooks",
            "use the signature to authenticate deliveries", "osfria.webhook.allowed-hosts");

    @Produces
    @Singleton
    TargetPolicy targets(WebhookConfig config, HostResolver resolver, MeterRegistry metrics) {
        WebhookConfig.Lookups lookups = config.lookups();
        TargetPolicy policy = new TargetPolicy(config.allowedHosts().orElse(List.of()), WORDING, resolver,
                new TargetPolicy.Lookups(lookups.perOwner(), lookups.threads(), lookups.deadline(), lookups.remembered()));
        FunctionCounter.builder("osfria.webhook.lookups.timed.out", policy, TargetPolicy::lookupsTimedOut)
                .description("target name lookups that did not answer within osfria.webhook.lookups.deadline,"
                        + " or whose resolver gave up after at least 5 s (half of it if shorter)")
                .register(metrics);
        return policy;
    }

    /** On shutdown: waits for no lookup (one may hang for seconds), answers the waiting ones as not looked up in time. */
    void close(@Disposes TargetPolicy policy) {
        policy.close();
    }
}
