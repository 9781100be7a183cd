package fr.osfria.embed.indexing;

import fr.osfria.security.audit.AuditLog;
import fr.osfria.security.crypto.Keyring;
import fr.osfria.security.crypto.ResealReport;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.rights.Caller;
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
 * {@code POST /v1/admin/kek/reseal}: after a KEK rotation, moves the index's sealed chunks (wrapped data keys and
 * blind keyword terms) to the active KEK (admins). Call again while {@code remaining} goes down.
 */
@Path(ResealReport.PATH)
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed("admin")
public class KekResource {

    private final IndexResealer resealer;
    private final Keyring keyring;
    private final AuditLog audit;
    private final Caller caller;
    private final Vertx vertx;

    public KekResource(IndexResealer resealer, Keyring keyring, AuditLog audit, Caller caller, Vertx vertx) {
        this.resealer = resealer;
        this.keyring = keyring;
        this.audit = audit;
        this.caller = caller;
        this.vertx = vertx;
    }

    @POST
    public Uni<Response> reseal() {
        String key = caller.name();
        if (!keyring.available()) {
            return Uni.createFrom().item(ErrorResponses.of(503, "no active key-encryption key: set OSFRIA_ENCRYPTION_KEK",
                    "encryption_unavailable"));
        }
        return vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(resealer::reseal)), false)
                .call(r -> audit.record(key, "kek.reseal", r.kekId(), null, "ok",
                        "resealed=" + r.resealed() + " remaining=" + r.remaining() + " unreadable=" + r.unreadable()))
                .map(r -> Response.ok(r).build());
    }
}
