package fr.osfria.router;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

@ConfigMapping(prefix = "osfria.router")
public interface RouterConfig {

    /** Base URLs of OpenAI-compatible backends (vLLM servers), e.g. {@code http://10.0.0.5:8000}. */
    Optional<List<String>> backends();

    /** How often each backend's {@code /v1/models} is polled. */
    @WithDefault("5s")
    Duration probeInterval();

    /** Time-out of one probe; a backend that does not answer in time counts as unhealthy. */
    @WithDefault("2s")
    Duration probeTimeout();
}
