package fr.osfria.local;

import java.util.Optional;

/** Which service an entry-port path goes to, the way the Kubernetes ingress routes it. */
public final class Routes {

    /** Where to send a request, and the path to ask there. */
    public record Target(LocalSettings.Service service, String path) {
    }

    /**
     * Public API paths go to their service unchanged; {@code /<service>/q/...} reaches a service's own health,
     * metrics and OpenAPI (e.g. {@code /ingest-service/q/health}).
     */
    public static Optional<Target> route(String path) {
        if (path == null || !path.startsWith("/") || path.contains("/../") || path.endsWith("/..")) {
            return Optional.empty();
        }
        for (LocalSettings.Service service : LocalSettings.SERVICES) {
            String ops = "/" + service.name() + "/q/";
            if (path.startsWith(ops)) {
                return Optional.of(new Target(service, path.substring(service.name().length() + 1)));
            }
            for (String prefix : service.paths()) {
                if (matches(path, prefix)) {
                    return Optional.of(new Target(service, path));
                }
            }
        }
        return Optional.empty();
    }

    /** A prefix matches itself, and sub-paths at a segment boundary: {@code /v1/search} but not {@code /v1/searchx}. */
    private static boolean matches(String path, String prefix) {
        if (prefix.endsWith("/")) {
            return path.startsWith(prefix);
        }
        return path.equals(prefix) || path.startsWith(prefix + "/") || path.startsWith(prefix + "?");
    }

    private Routes() {
    }
}
