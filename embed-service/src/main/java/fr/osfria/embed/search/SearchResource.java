package fr.osfria.embed.search;

import fr.osfria.embed.index.MetadataTokens;
import fr.osfria.events.EventJson;
import fr.osfria.security.crypto.Envelope;
import fr.osfria.security.audit.AuditLog;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.rights.Caller;
import fr.osfria.security.rights.Rights;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.mutiny.unchecked.Unchecked;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/search}. A collection the caller may not read answers 404, as an unknown one would. Every
 * search is audited with its filters (metadata values only as keyed hashes, see {@link SearchFilters#forAudit}),
 * its hit count and the documents it returned.
 */
@Path("/v1/search")
@Consumes(MediaType.APPLICATION_JSON)
@Produces(MediaType.APPLICATION_JSON)
public class SearchResource {

    private final Caller caller;
    private final AuditLog audit;
    private final SearchService search;
    private final Envelope envelope;

    public SearchResource(Caller caller, AuditLog audit, SearchService search, Envelope envelope) {
        this.caller = caller;
        this.audit = audit;
        this.search = search;
        this.envelope = envelope;
    }

    @POST
    public Uni<Response> search(@Valid @NotNull SearchRequest request) {
        KeyEntry key = caller.key();
        Map<String, List<String>> filters;
        try {
            filters = SearchFilters.parse(request.filters());
        } catch (IllegalArgumentException e) {
            return audit.record(key.name(), "search", null, request.collection(), "invalid", e.getMessage())
                    .replaceWith(ErrorResponses.badRequest(e.getMessage()));
        }
        if (!Rights.canReadCollection(key, request.collection())) {
            return audit.record(key.name(), "search", null, request.collection(), "not_found", null)
                    .replaceWith(ErrorResponses.notFound("no collection " + request.collection()));
        }
        // the search runs on a worker thread, and its audit record is sent from there: going back to the event loop
        // first (as executeBlocking does) would add a thread switch to every search, for nothing
        return Uni.createFrom().item(Unchecked.supplier(() -> search.search(key, request, filters)))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .chain(answer -> audit.record(key.name(), "search", null, request.collection(), "ok",
                                EventJson.encodeMap(Map.of("filters", SearchFilters.forAudit(filters, auditTokens()),
                                        "hits", answer.totalResults(), "document_ids", answer.results().stream().map(SearchResponse.Result::documentId).distinct().toList())))
                        .replaceWith(Response.ok(answer).build()));
    }

    /** The keyed hashes the audit records metadata filter values as; none without a KEK. */
    private MetadataTokens auditTokens() {
        return envelope.available() ? new MetadataTokens(envelope.keyedHash(MetadataTokens.LABEL)) : null;
    }
}
