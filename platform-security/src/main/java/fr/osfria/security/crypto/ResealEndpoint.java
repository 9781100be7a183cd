package fr.osfria.security.crypto;

import fr.osfria.security.audit.AuditLog;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.rights.Caller;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.Response;
import java.util.function.Supplier;

/**
 * What every service's {@code POST /v1/admin/kek/reseal} does around its own re-seal: 503 without an active KEK,
 * the audit record ({@code kek.reseal}) and the answer. Each sealing service keeps a small resource (admins only)
 * that hands its re-seal to {@link #run}.
 */
@ApplicationScoped
public class ResealEndpoint {

    private final Keyring keyring;
    private final AuditLog audit;
    private final Caller caller;

    public ResealEndpoint(Keyring keyring, AuditLog audit, Caller caller) {
        this.keyring = keyring;
        this.audit = audit;
        this.caller = caller;
    }

    public Uni<Response> run(Supplier<Uni<ResealReport>> reseal) {
        String key = caller.name();
        if (!keyring.available()) {
            return Uni.createFrom().item(ErrorResponses.of(503, "no active key-encryption key: set OSFRIA_ENCRYPTION_KEK",
                    "encryption_unavailable"));
        }
        return reseal.get().call(r -> audit.record(key, "kek.reseal", r.kekId(), null, "ok",
                        "resealed=" + r.resealed() + " remaining=" + r.remaining() + " unreadable=" + r.unreadable()))
                .map(r -> Response.ok(r).build());
    }
}
