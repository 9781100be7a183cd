package fr.osfria.webhook.subscription;

import fr.osfria.security.crypto.ResealEndpoint;
import fr.osfria.security.crypto.ResealReport;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** {@code POST /v1/admin/kek/reseal}: after a KEK rotation, moves the webhook secrets to the active KEK (admins). */
@Path(ResealReport.PATH)
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed("admin")
public class KekResource {

    private final SecretResealer resealer;
    private final ResealEndpoint endpoint;

    public KekResource(SecretResealer resealer, ResealEndpoint endpoint) {
        this.resealer = resealer;
        this.endpoint = endpoint;
    }

    @POST
    public Uni<Response> reseal() {
        return endpoint.run(resealer::reseal);
    }
}
