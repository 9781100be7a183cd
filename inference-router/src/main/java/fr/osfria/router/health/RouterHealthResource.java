package fr.osfria.router.health;

import com.fasterxml.jackson.annotation.JsonProperty;
import fr.osfria.router.backend.Backend;
import fr.osfria.router.backend.BackendPool;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/**
 * {@code GET /health} and {@code GET /metrics} at the root, where OpenAI-style gateways and vLLM keep them. The
 * Quarkus endpoints ({@code /q/health/*}, {@code /q/metrics}) serve Kubernetes probes and Prometheus the same way as
 * on every other service.
 */
@Path("/")
@PermitAll
public class RouterHealthResource {

    public record BackendView(String id, boolean healthy, @JsonProperty("in_flight") int inFlight, List<String> models,
                              String error) {
    }

    public record Health(String status, @JsonProperty("healthy_backends") long healthyBackends, List<BackendView> backends) {
    }

    private final BackendPool pool;
    private final PrometheusMeterRegistry prometheus;

    public RouterHealthResource(BackendPool pool, PrometheusMeterRegistry prometheus) {
        this.pool = pool;
        this.prometheus = prometheus;
    }

    /** 200 while at least one backend is healthy, 503 otherwise; the body lists every backend. */
    @GET
    @Path("health")
    @Produces(MediaType.APPLICATION_JSON)
    public Response health() {
        List<Backend> backends = pool.backends();
        List<BackendView> views = backends.stream().map(b -> new BackendView(b.id(), b.healthy(), b.inFlight(),
                b.models().stream().sorted().toList(), b.lastError())).toList();
        long healthy = backends.stream().filter(Backend::healthy).count();
        Health body = new Health(healthy > 0 ? "ok" : "no_healthy_backend", healthy, views);
        return Response.status(healthy > 0 ? 200 : 503).entity(body).build();
    }

    @GET
    @Path("metrics")
    @Produces("text/plain; version=0.0.4; charset=utf-8")
    public String metrics() {
        return prometheus.scrape();
    }
}
