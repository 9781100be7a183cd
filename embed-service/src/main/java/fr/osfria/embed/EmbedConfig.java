package fr.osfria.embed;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.Optional;

@ConfigMapping(prefix = "osfria.embed")
public interface EmbedConfig {

    /** Which vector store: the embedded index (one machine) or Qdrant (a cluster). */
    @WithDefault("lucene")
    Store store();

    enum Store { LUCENE, QDRANT }

    Qdrant qdrant();

    interface Qdrant {
        /** Qdrant's gRPC host, e.g. {@code qdrant.osfria-ai.svc}. */
        @WithDefault("localhost")
        String host();

        @WithDefault("6334")
        int port();

        @WithDefault("false")
        boolean tls();

        Optional<String> apiKey();

        /** The collection holding every chunk (Osfria collections are a payload field). */
        @WithDefault("osfria_chunks")
        String collection();
    }

    /** Where the embedded index lives (a volume in Kubernetes). */
    @WithDefault("data/index")
    Path indexDir();

    /**
     * Rebuild the index with the configured model when it was built by another one (set once, after changing the
     * model; the old index is kept beside the new one). Without it, such an index stops the service at start.
     */
    @WithDefault("false")
    boolean reindex();

    Model model();

    interface Model {
        /**
         * An ONNX embedding model file; empty for the built-in quantized e5-small-v2 (384 dimensions, English
         * vocabulary). A site drops in, say, multilingual-e5 with its {@code tokenizer.json}.
         */
        Optional<Path> onnxFile();

        /** The model's {@code tokenizer.json}, with {@link #onnxFile()}. */
        Optional<Path> tokenizerFile();

        /** The name recorded with the index; a different name against an existing index is refused. */
        @WithDefault("e5-small-v2-q")
        String name();

        /** Prefix for passages (e5 models are trained with {@code passage: } and {@code query: }). */
        @WithDefault("passage: ")
        String passagePrefix();

        @WithDefault("query: ")
        String queryPrefix();

        /**
         * How many runs of the model go on at once for the chunks being indexed; 0: one per core. Each run is one
         * sequence (see {@link #batchSize()}) on one thread: measured on 2 cores with the built-in model, that costs
         * the least CPU per chunk and keeps each chunk's vector independent of the others'.
         */
        @WithDefault("0")
        int parallelRuns();

        /** ONNX Runtime's threads inside one run (intra-op); 1 leaves the parallelism to {@link #parallelRuns()}. */
        @WithDefault("1")
        int threads();

        /**
         * Most sequences in one run, padded to the longest and masked (sequences are grouped by length first). 1
         * (default) runs each alone. More can pay for short chunks or a float model, but the built-in model quantizes
         * each run's activations as a whole, so a padded run's vectors depend on their neighbours (cosine 0.996–0.999
         * to the single-sequence vectors) and, for chunks of ~300 tokens, cost more CPU, not less.
         */
        @WithDefault("1")
        int batchSize();

        /** Most padded tokens in one run (sequences × the longest): bounds a run's memory whatever the chunks' lengths. */
        @WithDefault("8192")
        int batchTokens();
    }
}
