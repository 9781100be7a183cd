package fr.osfria.router.health;

import com.fasterxml.jackson.annotation.JsonProperty;
import fr.osfria.router.backend.Backend;
import fr.osfria.router.backend.BackendPool;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import jakarta.annotation.security.PermitAll;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/**
 * {@code GET /health} and {@code GET /metrics} at the root, where OpenAI-style gateways and vLLM keep them. The
 * public {@code /health} says UP or DOWN and nothing else: backend addresses and their errors map the internal
 * network. The detail is for operators: {@code GET /health/backends} with an admin key, or the {@code backends}
 * health group ({@code /q/health/group/backends}, {@link BackendsHealthCheck}) inside the cluster. The Quarkus
 * endpoints ({@code /q/health/*}, {@code /q/metrics}) serve Kubernetes probes and Prometheus as on every service.
 */
@Path("/")
public class RouterHealthResource {

    public record Status(String status) {
        static final Status UP = new Status("UP");
        static final Status DOWN = new Status("DOWN");
    }

    public record BackendView(String id, boolean healthy, @JsonProperty("in_flight") int inFlight, List<String> models,
                              String error) {
    }

    public record Detail(String status, @JsonProperty("healthy_backends") long healthyBackends, List<BackendView> backends) {
    }

    private final BackendPool pool;
    private final PrometheusMeterRegistry prometheus;

    public RouterHealthResource(BackendPool pool, PrometheusMeterRegistry prometheus) {
        this.pool = pool;
        this.prometheus = prometheus;
    }

    /** 200 {@code {"status":"UP"}} while at least one backend is healthy, 503 {@code {"status":"DOWN"}} otherwise. */
    @GET
    @Path("health")
    @PermitAll
    @Produces(MediaType.APPLICATION_JSON)
    public Response health() {
        boolean up = pool.backends().stream().anyMatch(Backend::healthy);
        return Response.status(up ? 200 : 503).entity(up ? Status.UP : Status.DOWN).build();
    }

    /** Every backend's state and last error, for admin keys; same status as {@code /health}. */
    @GET
    @Path("health/backends")
    @RolesAllowed("admin")
    @Produces(MediaType.APPLICATION_JSON)
    public Response backends() {
        Detail detail = detail(pool);
        return Response.status(detail.healthyBackends() > 0 ? 200 : 503).entity(detail).build();
    }

    static Detail detail(BackendPool pool) {
        List<Backend> backends = pool.backends();
        List<BackendView> views = backends.stream().map(b -> new BackendView(b.id(), b.healthy(), b.inFlight(),
                b.models().stream().sorted().toList(), b.lastError())).toList();
        long healthy = backends.stream().filter(Backend::healthy).count();
        return new Detail(healthy > 0 ? "UP" : "DOWN", healthy, views);
    }

    @GET
    @Path("metrics")
    @PermitAll
    @Produces("text/plain; version=0.0.4; charset=utf-8")
    public String metrics() {
        return prometheus.scrape();
    }
}
