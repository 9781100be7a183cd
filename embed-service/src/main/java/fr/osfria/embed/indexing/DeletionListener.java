package fr.osfria.embed.indexing;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.embed.index.IndexHolder;
import fr.osfria.events.CloudEvent;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** A deleted document leaves the index: its chunks can no longer be found. */
@ApplicationScoped
public class DeletionListener {

    public static final String PUBLIC_EVENTS = "public-events";

    private final IndexHolder index;

    public DeletionListener(IndexHolder index) {
        this.index = index;
    }

    @Incoming(PUBLIC_EVENTS)
    @Blocking
    public void onEvent(String json) throws IOException {
        CloudEvent<JsonNode> event = EventJson.decode(json, JsonNode.class);
        if (EventTypes.DOCUMENT_DELETED.equals(event.type())) {
            index.store().deleteDocument(event.data().path("documentId").asText(event.subject()));
            index.store().commit();
        }
    }
}
