package fr.osfria.router.backend;

import java.net.URI;
import java.util.Set;

/** One OpenAI-compatible server as last probed. */
public record Backend(URI url, boolean healthy, Set<String> models, String lastError) {

    public String id() {
        return url.getHost() + ":" + port();
    }

    public int port() {
        return url.getPort() > 0 ? url.getPort() : ("https".equals(url.getScheme()) ? 443 : 80);
    }

    public boolean serves(String model) {
        return healthy && models.contains(model);
    }
}
