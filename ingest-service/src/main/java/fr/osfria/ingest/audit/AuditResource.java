package fr.osfria.ingest.audit;

import fr.osfria.security.error.ErrorResponses;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Parameters;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /v1/audit}: the platform's audit trail, newest first, for admins. Filters: {@code key}, {@code action},
 * {@code collection}, {@code outcome}, {@code since} / {@code until} (ISO-8601). Page on with {@code until} set to the
 * oldest {@code time} of the previous page.
 */
@Path("/v1/audit")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed("admin")
public class AuditResource {

    public record AuditPage(List<AuditEntry> data, int limit) {
    }

    @GET
    @WithSession
    public Uni<Response> list(@QueryParam("key") String key, @QueryParam("action") String action,
                              @QueryParam("collection") String collection, @QueryParam("outcome") String outcome,
                              @QueryParam("since") String since, @QueryParam("until") String until,
                              @QueryParam("limit") @DefaultValue("100") int limit) {
        if (limit < 1 || limit > 1000) {
            return Uni.createFrom().item(ErrorResponses.badRequest("'limit' is between 1 and 1000"));
        }
        List<String> where = new ArrayList<>();
        Parameters params = new Parameters();
        try {
            add(where, params, "keyName", key);
            add(where, params, "action", action);
            add(where, params, "collection", collection);
            add(where, params, "outcome", outcome);
            if (since != null) {
                where.add("time >= :since");
                params.and("since", Instant.parse(since));
            }
            if (until != null) {
                where.add("time < :until");
                params.and("until", Instant.parse(until));
            }
        } catch (DateTimeParseException e) {
            return Uni.createFrom().item(ErrorResponses.badRequest("'since' and 'until' are ISO-8601 instants, e.g. 2026-11-26T08:00:00Z"));
        }
        String query = (where.isEmpty() ? "" : String.join(" and ", where) + " ") + "order by time desc, eventId";
        return AuditEntry.<AuditEntry>find(query, params).range(0, limit - 1).list()
                .map(rows -> Response.ok(new AuditPage(rows, limit)).build());
    }

    private static void add(List<String> where, Parameters params, String field, String value) {
        if (value != null && !value.isBlank()) {
            where.add(field + " = :" + field);
            params.and(field, value);
        }
    }
}
