package fr.osfria.webhook.subscription;

import fr.osfria.security.audit.AuditLog;
import fr.osfria.security.crypto.ResealReport;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.rights.Caller;
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
    private final SecretBox secrets;
    private final AuditLog audit;
    private final Caller caller;

    public KekResource(SecretResealer resealer, SecretBox secrets, AuditLog audit, Caller caller) {
        this.resealer = resealer;
        this.secrets = secrets;
        this.audit = audit;
        this.caller = caller;
    }

    @POST
    public Uni<Response> reseal() {
        String key = caller.name();
        if (!secrets.available()) {
            return Uni.createFrom().item(ErrorResponses.of(503, "no active key-encryption key: set OSFRIA_ENCRYPTION_KEK",
                    "encryption_unavailable"));
        }
        return resealer.reseal().call(r -> audit.record(key, "kek.reseal", r.kekId(), null, "ok",
                        "resealed=" + r.resealed() + " remaining=" + r.remaining() + " unreadable=" + r.unreadable()))
                .map(r -> Response.ok(r).build());
    }
}
