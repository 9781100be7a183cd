package fr.osfria.router.usage;

import fr.osfria.router.RouterConfig;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.ZoneId;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Runs this replica's share of the {@link ThresholdNotifier} group. */
@ApplicationScoped
public class UsageThresholds {

    public static final String GROUP = "inference-router-usage-thresholds";

    private final ThresholdNotifier notifier;

    public UsageThresholds(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap, RouterConfig config,
                           KeyRegistry registry) {
        this.notifier = new ThresholdNotifier(bootstrap, GROUP, name -> byName(registry, name),
                config.quota().thresholds(), ZoneId.of(config.quota().zone()));
    }

    static KeyEntry byName(KeyRegistry registry, String name) {
        for (KeyEntry k : registry.state().keys()) {
            if (k.name().equals(name)) {
                return k;
            }
        }
        return null;
    }

    void start(@Observes StartupEvent event) {
        Thread thread = new Thread(notifier, "osfria-usage-thresholds");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) {
        notifier.close();
    }
}
