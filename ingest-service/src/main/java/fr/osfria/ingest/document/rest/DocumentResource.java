package fr.osfria.ingest.document.rest;

import com.fasterxml.jackson.core.type.TypeReference;
import fr.osfria.events.EventJson;
import fr.osfria.ingest.document.Document;
import fr.osfria.security.audit.AuditLog;
import fr.osfria.security.error.ErrorResponses;
import fr.osfria.security.rights.Caller;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;

@Path("/v1/documents")
@Produces(MediaType.APPLICATION_JSON)
public class DocumentResource {

    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private final Caller caller;
    private final AuditLog audit;

    public DocumentResource(Caller caller, AuditLog audit) {
        this.caller = caller;
        this.audit = audit;
    }

    /** A document the caller may not see answers exactly like one that does not exist. */
    @GET
    @Path("/{id}")
    @WithSession
    public Uni<Response> get(@PathParam("id") String id) {
        String key = caller.name();
        return Document.<Document>findById(id).chain(doc -> {
            if (doc == null || !caller.canRead(doc.collection, doc.department, doc.confidential)) {
                return audit.record(key, "document.read", id, null, "not_found", null)
                        .replaceWith(ErrorResponses.notFound("no document " + id));
            }
            return audit.record(key, "document.read", id, doc.collection, "ok", null)
                    .replaceWith(Response.ok(view(doc)).build());
        });
    }

    static DocumentView view(Document doc) {
        Map<String, Object> metadata = new LinkedHashMap<>(read(doc.metadataJson));
        if (doc.department != null) {
            metadata.put("department", doc.department);
        }
        metadata.put("confidential", doc.confidential);
        if (doc.pages != null) {
            metadata.put("pages", doc.pages);
        }
        metadata.put("file_size", doc.sizeBytes);
        return new DocumentView(doc.id, doc.filename, doc.status, doc.chunksCount, doc.collection, metadata,
                doc.uploadTime, doc.error);
    }

    private static Map<String, Object> read(String json) {
        try {
            return EventJson.MAPPER.readValue(json, MAP);
        } catch (Exception e) {
            throw new IllegalStateException("stored metadata is not a JSON object", e);
        }
    }
}
