package fr.osfria.ingest.document.rest;

import fr.osfria.ingest.audit.DurableAudit;
import fr.osfria.ingest.document.service.UploadPlaces;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.rights.Caller;
import fr.osfria.security.rights.Rights;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Decides on an upload from its headers, before any byte of its body is read. A key that may write no document is
 * answered 403 (audited) without receiving its file. Otherwise the upload takes its key's place in
 * {@link UploadPlaces}: a key past its cap is refused before the service receives and spools a file of up to the
 * body limit, so one key's many slow or large uploads hold only its own places, not the disk and the connections of
 * everyone else. The place goes to the upload's work ({@link #start}), which gives it back when it ends; if the
 * request ends first (its client left while sending, or its body was refused as too large or malformed), it is given
 * back then.
 */
@jakarta.inject.Singleton
public class UploadPlaceFilter {

    private static final String PLACE = "osfria.upload-place";

    /**
     * The answer to an upload whose client left before its work began: nothing reads it (the request has ended),
     * but an access log shows it as what it was, a request closed by its client (the status nginx uses for it).
     */
    private static final int CLIENT_LEFT = 499;

    private final UploadPlaces places;
    private final Caller caller;
    private final DurableAudit audit;

    public UploadPlaceFilter(UploadPlaces places, Caller caller, DurableAudit audit) {
        this.places = places;
        this.caller = caller;
        this.audit = audit;
    }

    @TakesUploadPlace
    @ServerRequestFilter
    public Uni<Response> takePlace(RoutingContext request, UriInfo uri) {
        KeyEntry key = caller.key();
        if (!Rights.canWriteSomething(key)) {
            boolean newVersion = HttpMethod.PUT.equals(request.request().method().name());
            return audit.record(key.name(), newVersion ? "document.update" : "document.upload",
                            newVersion ? uri.getPathParameters().getFirst("id") : null, null, "denied",
                            "the key may write no collection")
                    .replaceWith(ErrorResponses.of(403, "this API key may not write to any collection", "forbidden"));
        }
        UploadPlaces.Place place = places.take(key.name());
        if (place.busy() != null) {
            return Uni.createFrom().item(refusal(place.busy()));
        }
        request.put(PLACE, place);
        request.addEndHandler(ended -> place.requestEnded());
        if (request.response().closed()) { // closed before the handler was there: it would never be called
            place.requestEnded();
        }
        return Uni.createFrom().nullItem();
    }

    /**
     * The work of this request's upload begins in the place its filter took: null when it may, the answer otherwise
     * (the replica's cap reached, or the request already ended: its client left after sending its body).
     */
    Response start(RoutingContext request) {
        UploadPlaces.Place place = request.get(PLACE);
        return switch (place.start()) {
            case BEGUN -> null;
            case REPLICA_BUSY -> refusal(UploadPlaces.Busy.REPLICA_BUSY);
            case REQUEST_ENDED -> Response.status(CLIENT_LEFT).build();
        };
    }

    /** Gives back the place of this request's upload, whose work ended. */
    void release(RoutingContext request) {
        UploadPlaces.Place place = request.get(PLACE);
        place.release();
    }

    /**
     * An upload past a cap of {@link UploadPlaces}: nothing of it was looked at. Not audited (like the router's rate
     * limits): it touched no document and exercised no right, and a flood's refusals would otherwise be written to
     * the audit trail (to PostgreSQL while Kafka is away) at the rate the flood sends them; they are counted instead.
     */
    private Response refusal(UploadPlaces.Busy busy) {
        return switch (busy) {
            case KEY_BUSY -> ErrorResponses.tooManyRequests("this API key has " + places.perKey()
                    + " uploads (new versions included) in progress, the most it may have at once: send this one again when one of them is"
                    + " answered", "too_many_uploads", UploadPlaces.RETRY_AFTER_SECONDS);
            case REPLICA_BUSY -> ErrorResponses.unavailable("the service has as many uploads at work as it takes"
                    + " at once: send this one again shortly", "uploads_busy", UploadPlaces.RETRY_AFTER_SECONDS);
        };
    }
}
