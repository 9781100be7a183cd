package fr.osfria.embed.search;

import fr.osfria.events.EventJson;
import fr.osfria.security.audit.AuditLog;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.rights.Caller;
import fr.osfria.security.rights.Rights;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.unchecked.Unchecked;
import io.vertx.mutiny.core.Vertx;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/search}. A collection the caller may not read answers 404, as an unknown one would. Every
 * search is audited with its filters, its hit count and the documents it returned.
 */
@Path("/v1/search")
@Consumes(MediaType.APPLICATION_JSON)
@Produces(MediaType.APPLICATION_JSON)
public class SearchResource {

    private final Caller caller;
    private final AuditLog audit;
    private final SearchService search;
    private final Vertx vertx;

    public SearchResource(Caller caller, AuditLog audit, SearchService search, Vertx vertx) {
        this.caller = caller;
        this.audit = audit;
        this.search = search;
        this.vertx = vertx;
    }

    @POST
    public Uni<Response> search(@Valid @NotNull SearchRequest request) {
        KeyEntry key = caller.key();
        Map<String, List<String>> filters;
        try {
            filters = filters(request.filters());
        } catch (IllegalArgumentException e) {
            return audit.record(key.name(), "search", null, request.collection(), "invalid", e.getMessage())
                    .replaceWith(ErrorResponses.badRequest(e.getMessage()));
        }
        if (!Rights.canReadCollection(key, request.collection())) {
            return audit.record(key.name(), "search", null, request.collection(), "not_found", null)
                    .replaceWith(ErrorResponses.notFound("no collection " + request.collection()));
        }
        return vertx.executeBlocking(Uni.createFrom().item(Unchecked.supplier(() -> search.search(key, request, filters))))
                .chain(answer -> audit.record(key.name(), "search", null, request.collection(), "ok",
                                EventJson.encodeMap(Map.of("filters", filters, "hits", answer.totalResults(),
                                        "document_ids", answer.results().stream().map(SearchResponse.Result::documentId).distinct().toList())))
                        .replaceWith(Response.ok(answer).build()));
    }

    /** Equality filters: a scalar, or a list of scalars meaning any of them. Anything else is refused. */
    static Map<String, List<String>> filters(Map<String, Object> raw) {
        Map<String, List<String>> filters = new LinkedHashMap<>();
        if (raw == null) {
            return filters;
        }
        raw.forEach((key, value) -> {
            if (key == null || key.isBlank() || key.length() > 128) {
                throw new IllegalArgumentException("filter names are 1-128 characters");
            }
            if (value instanceof List<?> list) {
                if (list.isEmpty() || list.size() > 100) {
                    throw new IllegalArgumentException("filter '" + key + "': a list of 1 to 100 values");
                }
                filters.put(key, list.stream().map(v -> scalar(key, v)).toList());
            } else {
                filters.put(key, List.of(scalar(key, value)));
            }
        });
        return filters;
    }

    private static String scalar(String key, Object value) {
        if (value instanceof String || value instanceof Number || value instanceof Boolean) {
            return String.valueOf(value);
        }
        throw new IllegalArgumentException("filter '" + key + "' must be a string, number, boolean or a list of them");
    }
}
