package fr.osfria.embed.indexing;

import fr.osfria.security.crypto.ResealEndpoint;
import fr.osfria.security.crypto.ResealReport;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.unchecked.Unchecked;
import io.vertx.mutiny.core.Vertx;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * {@code POST /v1/admin/kek/reseal}: after a KEK rotation, moves the index's sealed chunks (wrapped data keys, blind
 * keyword terms and confidential metadata filter tokens) to the active KEK (admins). Call again while
 * {@code remaining} goes down. The index is written off the event loop.
 */
@Path(ResealReport.PATH)
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed("admin")
public class KekResource {

    private final IndexResealer resealer;
    private final ResealEndpoint endpoint;
    private final Vertx vertx;

    public KekResource(IndexResealer resealer, ResealEndpoint endpoint, Vertx vertx) {
        this.resealer = resealer;
        this.endpoint = endpoint;
        this.vertx = vertx;
    }

    @POST
    public Uni<Response> reseal() {
        return endpoint.run(() -> vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(resealer::reseal)), false));
    }
}
