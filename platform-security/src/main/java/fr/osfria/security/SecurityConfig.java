package fr.osfria.security;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;

/** Security settings shared by every service. */
@ConfigMapping(prefix = "osfria.security")
public interface SecurityConfig {

    /** The key registry file written by {@code osfria keys}; in Kubernetes, a mounted Secret. */
    @WithDefault("/etc/osfria/keys/keys.json")
    Path keysFile();

    /** How often the key file is checked for changes. */
    @WithDefault("5s")
    Duration reloadInterval();
}
