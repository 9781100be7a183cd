package fr.osfria.embed.index;

import fr.osfria.embed.EmbedConfig;
import fr.osfria.embed.embedding.Embedder;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Opens the embedded index at start-up, so a model mismatch stops the service at once with the reason. */
@Startup
@ApplicationScoped
public class IndexHolder {

    private final LuceneStore store;

    public IndexHolder(EmbedConfig config, Embedder embedder) {
        try {
            store = new LuceneStore(config.indexDir(), embedder.name(), embedder.dimension());
            Log.infof("index %s opened: %d chunks", config.indexDir(), store.size());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the index in " + config.indexDir(), e);
        }
    }

    public LuceneStore store() {
        return store;
    }

    @PreDestroy
    void close() throws IOException {
        store.close();
    }
}
