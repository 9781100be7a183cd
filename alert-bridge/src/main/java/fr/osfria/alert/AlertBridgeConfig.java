package fr.osfria.alert;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

@ConfigMapping(prefix = "osfria.alert-bridge")
public interface AlertBridgeConfig {

    /** How many distinct alerts (fingerprint and firing start) are remembered for de-duplication. */
    @WithDefault("10000")
    int dedupCapacity();
}
