package fr.osfria.ingest.me;

import fr.osfria.ingest.audit.DurableAudit;
import fr.osfria.ingest.document.repository.DocumentRepository;
import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.rights.Caller;
import fr.osfria.security.rights.Rights;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/**
 * {@code GET /v1/me}: the calling key as it may know itself (name, roles, departments, clearance, quotas) and the
 * collections it may read and write, as {@link Rights} decides them. Only the caller's own key, and never its hash
 * or hint. Lives here because this service knows which collections hold documents. Audited ({@code key.read}) like
 * the other reads of what documents hold: it names collections holding documents the key can see.
 */
@Path("/v1/me")
@Produces(MediaType.APPLICATION_JSON)
public class MeResource {

    /** Collections listed at most: a key is told the first ones by name, and {@code collections.truncated}. */
    static final int MAX_COLLECTIONS = 1000;

    private final Caller caller;
    private final DurableAudit audit;
    private final DocumentRepository documents;

    public MeResource(Caller caller, DurableAudit audit, DocumentRepository documents) {
        this.caller = caller;
        this.audit = audit;
        this.documents = documents;
    }

    @GET
    @WithSession
    public Uni<KeyView> me() {
        KeyEntry key = caller.key();
        // a grant that names its collections needs no look at the documents: only * can reach unnamed ones
        Uni<List<String>> visible = Rights.readsEveryCollection(key) || Rights.writesEveryCollection(key)
                ? documents.collectionsWithVisibleDocuments(key, MAX_COLLECTIONS + 1)
                : Uni.createFrom().item(List.of());
        return visible.map(names -> KeyView.of(key, names.size() > MAX_COLLECTIONS ? names.subList(0, MAX_COLLECTIONS) : names,
                names.size() > MAX_COLLECTIONS))
                .call(view -> audit.record(key.name(), "key.read", null, null, "ok",
                        "readable collections: " + view.collections().read().size()));
    }
}
