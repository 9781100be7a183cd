package fr.osfria.embed.index;

import fr.osfria.embed.EmbedConfig;
import fr.osfria.embed.embedding.Embedder;
import fr.osfria.embed.indexing.ChunkPreparer;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Opens the vector store at start-up (the embedded index, or Qdrant when configured), so a model mismatch stops
 * the service at once with the reason.
 */
@Startup
@ApplicationScoped
public class IndexHolder {

    private final VectorStore store;

    public IndexHolder(EmbedConfig config, Embedder embedder, ChunkPreparer preparer) {
        try {
            store = config.store() == EmbedConfig.Store.QDRANT
                    ? new QdrantStore(config.qdrant(), embedder.name(), embedder.dimension())
                    : openLucene(config, embedder, preparer);
            Log.infof("%s store opened: %d chunks", config.store(), store.size());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the index in " + config.indexDir(), e);
        }
    }

    private static VectorStore openLucene(EmbedConfig config, Embedder embedder, ChunkPreparer preparer) throws IOException {
        try {
            return new LuceneStore(config.indexDir(), embedder.name(), embedder.dimension(), LuceneStore.Compaction.DEFAULT);
        } catch (IllegalStateException mismatch) {
            if (!config.reindex()) {
                throw mismatch;
            }
            Log.warnf("%s; re-indexing with %s", mismatch.getMessage(), embedder.name());
            long start = System.nanoTime();
            int chunks = LuceneStore.reindex(config.indexDir(), embedder.name(), embedder.dimension(), stored -> {
                try {
                    return preparer.prepare(stored);
                } catch (java.security.GeneralSecurityException e) {
                    throw new IllegalStateException("chunk " + stored.chunkId() + " cannot be opened: " + e.getMessage(), e);
                }
            });
            Log.infof("re-indexed %d chunks in %d s", chunks, (System.nanoTime() - start) / 1_000_000_000);
            return new LuceneStore(config.indexDir(), embedder.name(), embedder.dimension(), LuceneStore.Compaction.DEFAULT);
        }
    }

    public VectorStore store() {
        return store;
    }

    @PreDestroy
    void close() throws IOException {
        store.close();
    }
}
