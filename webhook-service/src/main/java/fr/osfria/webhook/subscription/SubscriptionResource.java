package fr.osfria.webhook.subscription;

import fr.osfria.events.EventTypes;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.network.TargetPolicy;
import fr.osfria.security.rights.Caller;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/** Webhook subscriptions. A key sees and changes only its own; an admin sees all. */
@Path("/v1/webhooks")
@Consumes(MediaType.APPLICATION_JSON)
@Produces(MediaType.APPLICATION_JSON)
public class SubscriptionResource {

    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * Seconds a client whose target could not be looked up in time is asked to wait: its name server may answer by
     * then, and while the lookup still hangs the next try is answered at once.
     */
    private static final int LOOKUP_RETRY_AFTER_SECONDS = 5;

    private final Caller caller;
    private final TargetPolicy targets;
    private final SecretBox secrets;
    private final fr.osfria.security.key.KeyRegistry keys;
    private final SubscriptionRemoval removal;
    private final fr.osfria.webhook.WebhookConfig config;

    public SubscriptionResource(Caller caller, TargetPolicy targets, SecretBox secrets,
                                fr.osfria.security.key.KeyRegistry keys, SubscriptionRemoval removal,
                                fr.osfria.webhook.WebhookConfig config) {
        this.caller = caller;
        this.config = config;
        this.removal = removal;
        this.targets = targets;
        this.secrets = secrets;
        this.keys = keys;
    }

    @POST
    @WithSession
    public Uni<Response> create(SubscriptionRequest request) {
        if (request == null) {
            return bad("a JSON body with 'url' and 'events' is required");
        }
        String problem = checkUrl(request.url());
        if (problem == null) {
            problem = checkEvents(request.events());
        }
        if (problem == null && request.secret() != null) {
            problem = checkSecret(request.secret());
        }
        if (problem != null) {
            return bad(problem);
        }
        if (!secrets.available()) {
            return Uni.createFrom().item(ErrorResponses.of(503, "webhook secrets need a key-encryption key: set OSFRIA_ENCRYPTION_KEK",
                    "encryption_unavailable"));
        }
        return targets.check(request.url(), caller.name()).chain(target -> {
            if (!target.allowed()) {
                return refused(target);
            }
            Subscription s = new Subscription();
            byte[] id = new byte[12];
            RANDOM.nextBytes(id);
            s.id = "wh_" + HexFormat.of().formatHex(id);
            s.owner = caller.name();
            s.url = request.url();
            s.events = String.join(",", new LinkedHashSet<>(request.events()));
            String secret = request.secret() != null ? request.secret() : SecretBox.generate();
            s.secretSealed = secrets.seal(s.id, secret);
            s.active = request.active() == null || request.active();
            s.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            s.updatedAt = s.createdAt;
            return Panache.withTransaction(() -> ownersLock(s.owner)
                    .chain(() -> Subscription.count("owner", s.owner))
                    .chain(n -> n >= config.maxSubscriptionsPerKey() && !caller.key().admin() ? Uni.createFrom().item(ErrorResponses.of(409,
                                    "this key has " + n + " webhook subscriptions, the most it may have ("
                                            + config.maxSubscriptionsPerKey() + "): delete one first",
                                    "subscription_limit"))
                            : s.persist().replaceWith(Response.status(201).entity(SubscriptionView.of(s, secret)).build())));
        });
    }

    @GET
    @WithSession
    public Uni<Map<String, List<SubscriptionView>>> list() {
        KeyEntry key = caller.key();
        Uni<List<Subscription>> found = key.admin() ? Subscription.list("order by createdAt")
                : Subscription.list("owner = ?1 order by createdAt", key.name());
        return found.map(list -> Map.of("data", list.stream().map(s -> SubscriptionView.of(s, null)).toList()));
    }

    @GET
    @Path("/{id}")
    @WithSession
    public Uni<Response> get(@PathParam("id") String id) {
        return visible(id).map(s -> s == null ? notFound(id) : Response.ok(SubscriptionView.of(s, null)).build());
    }

    @PUT
    @Path("/{id}")
    @WithSession
    public Uni<Response> update(@PathParam("id") String id, SubscriptionRequest request) {
        if (request == null) {
            return bad("a JSON body is required");
        }
        String problem = request.url() == null ? null : checkUrl(request.url());
        if (problem == null && request.events() != null) {
            problem = checkEvents(request.events());
        }
        if (problem == null && request.secret() != null) {
            problem = checkSecret(request.secret());
        }
        if (problem != null) {
            return bad(problem);
        }
        Uni<TargetPolicy.Target> target = request.url() == null ? Uni.createFrom().nullItem()
                : targets.check(request.url(), caller.name());
        return target.chain(t -> t != null && !t.allowed() ? refused(t) : save(id, request));
    }

    private Uni<Response> save(String id, SubscriptionRequest request) {
        return Panache.withTransaction(() -> Subscription.lockVisible(id, caller.key()).map(s -> {
            if (s == null) {
                return notFound(id);
            }
            if (request.url() != null) {
                s.url = request.url();
            }
            if (request.events() != null) {
                s.events = String.join(",", new LinkedHashSet<>(request.events()));
            }
            if (request.secret() != null) {
                s.secretSealed = secrets.seal(s.id, request.secret());
            }
            if (request.active() != null) {
                s.active = request.active();
                if (s.active) {
                    s.disabledReason = null;
                }
            }
            s.updatedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            return Response.ok(SubscriptionView.of(s, null)).build();
        }));
    }

    @DELETE
    @Path("/{id}")
    @WithSession
    public Uni<Response> delete(@PathParam("id") String id) {
        return visible(id).chain(s -> s == null ? Uni.createFrom().item(notFound(id))
                : removal.remove(id).map(removed -> removed ? Response.noContent().build() : notFound(id)));
    }

    /** Until the transaction ends: a key's concurrent creations count its subscriptions one after another. */
    private static Uni<Void> ownersLock(String owner) {
        return Panache.getSession().chain(session -> session
                        .createNativeQuery("SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext(?1))) l")
                        .setParameter(1, "webhook-subscriptions:" + owner).getSingleResult())
                .replaceWithVoid();
    }

    private Uni<Subscription> visible(String id) {
        return Subscription.findVisible(id, caller.key());
    }

    private static String checkUrl(String url) {
        if (url == null || url.isBlank()) {
            return "'url' is required";
        }
        if (url.length() > 2048) {
            return "'url' is longer than 2048 characters";
        }
        return null; // the target itself is checked by TargetPolicy.check, off the event loop
    }

    private String checkEvents(List<String> events) {
        if (events == null || events.isEmpty()) {
            return "'events' lists at least one event type, or \"*\" for all";
        }
        for (String e : events) {
            if (e == null || (!Subscription.ALL.equals(e) && !EventTypes.PUBLIC.contains(e) && !declared(e))) {
                return "unknown event type '" + e + "'; known: " + new java.util.TreeSet<>(EventTypes.PUBLIC)
                        + ", the types a Kafka application declares (app.NAME.TYPE) or \"*\"";
            }
        }
        return null;
    }

    /** A Kafka application's event type ({@code app.NAME.TYPE}) that its active key declares now. */
    private boolean declared(String type) {
        String app = fr.osfria.security.rights.EventAudience.producingApplication(type);
        return app != null && keys.active(app).filter(k -> k.declaresEventType(type)).isPresent();
    }

    private static String checkSecret(String secret) {
        if (secret.startsWith("whsec_")) {
            try {
                if (Base64.getDecoder().decode(secret.substring(6)).length < 24) {
                    return "a whsec_ secret carries at least 24 random bytes";
                }
            } catch (IllegalArgumentException e) {
                return "a whsec_ secret is base64 after its prefix";
            }
            return null;
        }
        return secret.length() < 16 || secret.length() > 256 ? "'secret' is 16 to 256 characters" : null;
    }

    /**
     * A target the policy refused: 400, the URL is wrong; or, when its name could not be looked up in time (a name
     * server, the platform's or the domain's, did not answer), 503 with {@code Retry-After}: the same request may
     * pass shortly.
     */
    private static Uni<Response> refused(TargetPolicy.Target target) {
        if (target.kind() == TargetPolicy.Refusal.LOOKUP_TIMEOUT) {
            return Uni.createFrom().item(ErrorResponses.unavailable("'url' could not be checked: " + target.refusal(),
                    "lookup_timeout", LOOKUP_RETRY_AFTER_SECONDS));
        }
        return bad("'url' refused: " + target.refusal());
    }

    private static Uni<Response> bad(String message) {
        return Uni.createFrom().item(ErrorResponses.badRequest(message));
    }

    private static Response notFound(String id) {
        return ErrorResponses.notFound("no webhook subscription " + id);
    }
}
