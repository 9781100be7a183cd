package fr.osfria.embed.indexing;

import com.fasterxml.jackson.databind.JsonNode;
import fr.osfria.embed.index.IndexHolder;
import fr.osfria.events.EventJson;
import fr.osfria.events.EventTypes;
import fr.osfria.events.document.VersionSuperseded;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * The fast path of deletions and new versions: a consumer group of its own reads the chunks topic without
 * embedding anything, so a {@code document.version-superseded} record takes effect within moments of the DELETE or
 * PUT even when {@link ChunkIndexer} lags behind a backlog of chunks. ChunkIndexer applies the same record again
 * in order (retiring is idempotent), so this path may miss one without harm.
 */
@ApplicationScoped
public class RetirementListener {

    public static final String RETIREMENTS = "retirements";

    private final IndexHolder index;

    public RetirementListener(IndexHolder index) {
        this.index = index;
    }

    @Incoming(RETIREMENTS)
    @Blocking
    public void onRecord(String json) throws IOException {
        try {
            if (EventTypes.VERSION_SUPERSEDED.equals(EventJson.decode(json, JsonNode.class).type())) {
                VersionSuperseded retired = Retirements.apply(index.store(), json);
                index.store().commit(); // durable now: a restart must not bring the chunks back until ChunkIndexer catches up
                Log.infof("document %s: versions below %s retired", retired.documentId(),
                        retired.deletion() ? "any (deleted)" : String.valueOf(retired.floor()));
            }
        } catch (EventJson.MalformedEventException | IllegalArgumentException e) {
            Log.debugf("retirements: skipping a record ChunkIndexer will dead-letter: %s", e.getMessage());
        }
    }
}
