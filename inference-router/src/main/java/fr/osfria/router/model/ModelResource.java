package fr.osfria.router.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import fr.osfria.router.backend.BackendPool;
import fr.osfria.security.error.ErrorResponses;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/** OpenAI's model list, from the models healthy backends serve now. */
@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {

    public record Model(String id, String object, long created, @JsonProperty("owned_by") String ownedBy) {
        static Model of(String id) {
            return new Model(id, "model", STARTED, "osfria");
        }
    }

    public record ModelList(String object, List<Model> data) {
    }

    private static final long STARTED = System.currentTimeMillis() / 1000;

    private final BackendPool pool;

    public ModelResource(BackendPool pool) {
        this.pool = pool;
    }

    @GET
    public ModelList list() {
        return new ModelList("list", pool.models().keySet().stream().map(Model::of).toList());
    }

    @GET
    @Path("/{model: .+}")
    public Response get(@PathParam("model") String model) {
        if (!pool.models().containsKey(model)) {
            return ErrorResponses.of(404, "The model '" + model + "' does not exist or no healthy backend serves it",
                    "model_not_found");
        }
        return Response.ok(Model.of(model)).build();
    }
}
