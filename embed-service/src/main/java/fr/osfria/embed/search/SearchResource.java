package fr.osfria.embed.search;

import fr.osfria.security.audit.AuditLog;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.rights.Caller;
import io.smallrye.mutiny.Uni;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * {@code POST /v1/search}. A collection the caller may not read answers 404, as an unknown one would. The index
 * itself comes with the embedding work; until then a permitted search answers 501 and says so.
 */
@Path("/v1/search")
@Consumes(MediaType.APPLICATION_JSON)
@Produces(MediaType.APPLICATION_JSON)
public class SearchResource {

    private final Caller caller;
    private final AuditLog audit;

    public SearchResource(Caller caller, AuditLog audit) {
        this.caller = caller;
        this.audit = audit;
    }

    @POST
    public Uni<Response> search(@Valid @NotNull SearchRequest request) {
        String key = caller.name();
        if (!caller.canReadCollection(request.collection())) {
            return audit.record(key, "search", null, request.collection(), "not_found", null)
                    .replaceWith(ErrorResponses.notFound("no collection " + request.collection()));
        }
        return audit.record(key, "search", null, request.collection(), "error", "index not available")
                .replaceWith(ErrorResponses.of(501, "search is not available yet: the vector index is not built in this version",
                        "not_implemented"));
    }
}
