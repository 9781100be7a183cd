package fr.osfria.webhook.delivery;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.rights.Caller;
import fr.osfria.webhook.subscription.Subscription;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** What happened to a subscription's deliveries, and the levers: replay one, replay the failed ones, ping. */
@Path("/v1/webhooks/{id}")
@Produces(MediaType.APPLICATION_JSON)
public class DeliveryResource {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Attempt(@JsonProperty("attempted_at") OffsetDateTime attemptedAt, @JsonProperty("status_code") Integer statusCode,
                          @JsonProperty("duration_ms") int durationMs, String error) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DeliveryView(String id, String event, @JsonProperty("event_id") String eventId, String status, int attempts,
                               @JsonProperty("next_attempt_at") OffsetDateTime nextAttemptAt,
                               @JsonProperty("created_at") OffsetDateTime createdAt, List<Attempt> history) {
    }

    /** Most deliveries one replay-since sends again. */
    static final int REPLAY_LIMIT = 10_000;

    private final Caller caller;
    private final Pool db;
    private final DeliverySender sender;

    public DeliveryResource(Caller caller, Pool db, DeliverySender sender) {
        this.caller = caller;
        this.db = db;
        this.sender = sender;
    }

    /**
     * A delivery's successful attempt, kept on its own row rather than as an attempt row (see V6); deliveries that
     * succeeded before V6 have an attempt row and no {@code last_duration_ms}.
     */
    private static final String SUCCESS_ON_THE_ROW = """
            SELECT d.finished_at, d.last_status, d.last_duration_ms, NULL::text
            WHERE d.status = 'DELIVERED' AND d.last_duration_ms IS NOT NULL""";

    @GET
    @Path("/deliveries")
    @WithSession
    public Uni<Response> recent(@PathParam("id") String id, @QueryParam("limit") @DefaultValue("50") int limit) {
        if (limit < 1 || limit > 500) {
            return Uni.createFrom().item(ErrorResponses.badRequest("'limit' is between 1 and 500"));
        }
        return owned(id).chain(s -> s == null ? notFound(id) : db.preparedQuery("""
                        SELECT d.id, d.event_type, d.event_id, d.status, d.attempts, d.next_attempt_at, d.created_at,
                               a.attempted_at, a.status_code, a.duration_ms, a.error
                        FROM (SELECT * FROM delivery WHERE subscription_id = $1 ORDER BY created_at DESC LIMIT $2) d
                        LEFT JOIN LATERAL (
                          SELECT attempted_at, status_code, duration_ms, error FROM delivery_attempt WHERE delivery_id = d.id
                          UNION ALL %s) a ON true
                        ORDER BY d.created_at DESC, a.attempted_at""".formatted(SUCCESS_ON_THE_ROW)).execute(Tuple.of(id, limit))
                .map(rows -> {
                    Map<String, DeliveryView> byId = new LinkedHashMap<>();
                    for (Row r : rows) {
                        DeliveryView v = byId.computeIfAbsent(r.getString("id"), k -> new DeliveryView(k, r.getString("event_type"),
                                r.getString("event_id"), r.getString("status").toLowerCase(), r.getInteger("attempts"),
                                "PENDING".equals(r.getString("status")) ? r.getOffsetDateTime("next_attempt_at") : null,
                                r.getOffsetDateTime("created_at"), new ArrayList<>()));
                        if (r.getOffsetDateTime("attempted_at") != null) {
                            v.history().add(new Attempt(r.getOffsetDateTime("attempted_at"), r.getInteger("status_code"),
                                    r.getInteger("duration_ms"), r.getString("error")));
                        }
                    }
                    return Response.ok(Map.of("data", List.copyOf(byId.values()))).build();
                }));
    }

    /**
     * Sends one delivery again, now, whatever became of it, unless it is in flight: its id (and so {@code webhook-id})
     * stays the same. The statement locks the subscription (a deletion that committed since {@link #owned} leaves
     * nothing: 404; one that comes later waits for it) and the delivery, and reads the delivery as locked: a sweep that
     * deleted it meanwhile leaves nothing to replay (404), where the kept success's attempt row used to reference a
     * deleted delivery (500). A delivery in flight (pending under a sender's lease) is refused (409): replaying it cleared
     * the lease, so the sender claimed it again and sent it twice at once. One waiting for its retry is sent now.
     */
    @POST
    @Path("/deliveries/{delivery}/replay")
    @WithSession
    public Uni<Response> replay(@PathParam("id") String id, @PathParam("delivery") String delivery) {
        // a success kept on the row becomes an attempt row first: the history keeps it once the replay is recorded
        return owned(id).chain(s -> s == null ? notFound(id) : db.preparedQuery("""
                        WITH live AS (SELECT id FROM subscription WHERE id = $1 FOR KEY SHARE),
                        d AS (
                          SELECT id, status, finished_at, last_status, last_duration_ms,
                            status = 'PENDING' AND COALESCE(lease_until >= $3, false) AS in_flight FROM delivery
                          WHERE id = $2 AND subscription_id = $1 AND EXISTS (SELECT 1 FROM live) FOR UPDATE),
                        kept AS (
                          INSERT INTO delivery_attempt (delivery_id, attempted_at, status_code, duration_ms, error)
                          SELECT d.id, a.* FROM d CROSS JOIN LATERAL (%s) a),
                        replayed AS (
                          UPDATE delivery SET status = 'PENDING', next_attempt_at = $3, lease_until = NULL, finished_at = NULL
                          WHERE id = ANY (ARRAY (SELECT id FROM d WHERE NOT in_flight)) RETURNING id)
                        SELECT EXISTS (SELECT 1 FROM live) AS live, (SELECT count(*) FROM replayed) AS replayed,
                               EXISTS (SELECT 1 FROM d WHERE in_flight) AS in_flight"""
                        .formatted(SUCCESS_ON_THE_ROW)).execute(Tuple.of(id, delivery, now()))
                .map(rows -> {
                    Row r = rows.iterator().next();
                    if (!r.getBoolean("live")) {
                        return ErrorResponses.notFound("no webhook subscription " + id);
                    }
                    if (r.getBoolean("in_flight")) { // its lease would be cleared and the sender would send it twice at once
                        return ErrorResponses.of(409, "delivery " + delivery + " is being sent now (in flight until its"
                                + " attempt ends): replay it once it has ended", "delivery_in_flight");
                    }
                    if (r.getLong("replayed") == 0) {
                        return ErrorResponses.notFound("no delivery " + delivery);
                    }
                    sender.wake();
                    return Response.accepted(Map.of("replayed", 1)).build();
                }));
    }

    /**
     * Sends again every delivery that failed or was exhausted since {@code since} (ISO-8601), at most
     * {@link #REPLAY_LIMIT} a call ({@code "more": true} when that many were taken: call again). The subscription is
     * locked as for one replay (deleted meanwhile: 404, nothing revived); deliveries a sweep is deleting at that moment
     * are skipped rather than waited for. The ids are taken as an array ({@code id = ANY (ARRAY (...))}), by the primary
     * key: as {@code id IN (...)}, the planner could join them to a scan of the whole delivery table.
     */
    @POST
    @Path("/replay")
    @WithSession
    public Uni<Response> replayFailed(@PathParam("id") String id, @QueryParam("since") String since) {
        OffsetDateTime from;
        try {
            from = since == null ? OffsetDateTime.now(ZoneOffset.UTC).minusDays(1) : Instant.parse(since).atOffset(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            return Uni.createFrom().item(ErrorResponses.badRequest("'since' is an ISO-8601 instant, e.g. 2026-11-26T08:00:00Z"));
        }
        return owned(id).chain(s -> s == null ? notFound(id) : db.preparedQuery("""
                        WITH live AS (SELECT id FROM subscription WHERE id = $1 FOR KEY SHARE),
                        replayed AS (
                          UPDATE delivery SET status = 'PENDING', next_attempt_at = $3, lease_until = NULL, finished_at = NULL
                          WHERE id = ANY (ARRAY (
                            SELECT id FROM delivery WHERE subscription_id = $1 AND status IN ('FAILED', 'EXHAUSTED')
                              AND created_at >= $2 AND EXISTS (SELECT 1 FROM live) LIMIT $4 FOR UPDATE SKIP LOCKED))
                          RETURNING id)
                        SELECT EXISTS (SELECT 1 FROM live) AS live, (SELECT count(*) FROM replayed) AS replayed""")
                .execute(Tuple.of(id, from, now(), REPLAY_LIMIT))
                .map(rows -> {
                    Row r = rows.iterator().next();
                    if (!r.getBoolean("live")) {
                        return ErrorResponses.notFound("no webhook subscription " + id);
                    }
                    sender.wake();
                    long replayed = r.getLong("replayed");
                    return Response.accepted(replayed < REPLAY_LIMIT ? Map.of("replayed", replayed)
                            : Map.of("replayed", replayed, "more", true)).build();
                }));
    }

    /** A {@code webhook.ping} delivery, to check a receiver end to end (signatures included). */
    @POST
    @Path("/ping")
    @WithSession
    public Uni<Response> ping(@PathParam("id") String id) {
        String eventId = "ping-" + UUID.randomUUID();
        String body = "{\"event\":\"webhook.ping\",\"timestamp\":\"" + Instant.now() + "\",\"data\":{\"subscription_id\":\"" + id + "\"}}";
        return owned(id).chain(s -> s == null ? notFound(id) : db.preparedQuery("""
                        WITH live AS (SELECT id FROM subscription WHERE id = $1 FOR KEY SHARE)
                        INSERT INTO delivery (id, subscription_id, event_id, event_type, body, status, attempts, next_attempt_at, created_at)
                        SELECT 'msg_' || md5(live.id || $2), live.id, $2, 'webhook.ping', $3, 'PENDING', 0, $4, $4 FROM live
                        RETURNING id""").execute(Tuple.of(id, eventId, body, now()))
                .map(rows -> {
                    if (rows.rowCount() == 0) { // deleted meanwhile
                        return ErrorResponses.notFound("no webhook subscription " + id);
                    }
                    sender.wake();
                    return Response.accepted(Map.of("delivery_id", rows.iterator().next().getString("id"))).build();
                }));
    }

    private Uni<Subscription> owned(String id) {
        return Subscription.findVisible(id, caller.key());
    }

    private static Uni<Response> notFound(String id) {
        return Uni.createFrom().item(ErrorResponses.notFound("no webhook subscription " + id));
    }

    private static OffsetDateTime now() {
        return OffsetDateTime.now(ZoneOffset.UTC);
    }
}
