package fr.osfria.ingest.document.rest;

import fr.osfria.ingest.document.service.UploadPlaces;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.rights.Caller;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.core.Response;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Takes an upload's place in {@link UploadPlaces} from its headers, before any byte of its body is read: a key past
 * its cap is refused before the service receives and spools a file of up to the body limit, so one key's many slow
 * or large uploads hold only its own places, not the disk and the connections of everyone else. The place goes to
 * the upload's work ({@link #claim}) and is given back when that work ends; if the request ends first (its client
 * left while sending, or its body was refused as too large or malformed), it is given back then.
 */
@jakarta.inject.Singleton
public class UploadPlaceFilter {

    private static final String PLACE = "osfria.upload-place";

    private final UploadPlaces places;
    private final Caller caller;

    public UploadPlaceFilter(UploadPlaces places, Caller caller) {
        this.places = places;
        this.caller = caller;
    }

    @TakesUploadPlace
    @ServerRequestFilter
    public Response takePlace(RoutingContext request) {
        UploadPlaces.Place place = places.take(caller.key().name());
        if (place.busy() != null) {
            return refusal(place.busy());
        }
        Held held = new Held(place);
        request.put(PLACE, held);
        request.addEndHandler(ended -> held.releaseUnlessClaimed());
        return null;
    }

    /**
     * The place this request's filter took, now the work's to give back; a new one if the request ended before the
     * work began (its filter's place was given back then), which may be a refusal ({@code busy()} not null).
     */
    UploadPlaces.Place claim(RoutingContext request) {
        Held held = request.get(PLACE);
        return held != null && held.claimed.compareAndSet(false, true) ? held.place : places.take(caller.key().name());
    }

    /**
     * An upload past a cap of {@link UploadPlaces}: nothing of it was looked at. Not audited (like the router's rate
     * limits): it touched no document and exercised no right, and a flood's refusals would otherwise be written to
     * the audit trail (to PostgreSQL while Kafka is away) at the rate the flood sends them; they are counted instead.
     */
    Response refusal(UploadPlaces.Busy busy) {
        return switch (busy) {
            case KEY_BUSY -> ErrorResponses.tooManyRequests("this API key has " + places.perKey()
                    + " uploads (new versions included) in progress, the most it may have at once: send this one again when one of them is"
                    + " answered", "too_many_uploads", UploadPlaces.RETRY_AFTER_SECONDS);
            case REPLICA_BUSY -> ErrorResponses.unavailable("the service has as many uploads in progress as it takes"
                    + " at once: send this one again shortly", "uploads_busy", UploadPlaces.RETRY_AFTER_SECONDS);
        };
    }

    /** A place taken by the filter, given back by whichever comes first: the request's end, or the work it went to. */
    private static final class Held {
        private final UploadPlaces.Place place;
        private final AtomicBoolean claimed = new AtomicBoolean();

        Held(UploadPlaces.Place place) {
            this.place = place;
        }

        void releaseUnlessClaimed() {
            if (claimed.compareAndSet(false, true)) {
                place.release();
            }
        }
    }
}
