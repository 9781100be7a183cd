package fr.osfria.embed.embedding;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.e5smallv2q.E5SmallV2QuantizedEmbeddingModel;
import fr.osfria.embed.EmbedConfig;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Text to unit-length vectors, in process on the CPU (ONNX Runtime). Blocking: call it off the I/O thread.
 * Queries and passages get the model's prefixes, as e5 models were trained.
 */
@ApplicationScoped
public class Embedder {

    private final EmbeddingModel model;
    private final String name;
    private final int dimension;
    private final String passagePrefix;
    private final String queryPrefix;

    @jakarta.inject.Inject
    public Embedder(EmbedConfig config) {
        this(config.model());
    }

    public Embedder(EmbedConfig.Model m) {
        // run on the calling thread: on two cores the library's own thread pool was slower
        java.util.concurrent.Executor sameThread = Runnable::run;
        if (m.onnxFile().isPresent()) {
            if (m.tokenizerFile().isEmpty()) {
                throw new IllegalArgumentException("osfria.embed.model.onnx-file needs osfria.embed.model.tokenizer-file");
            }
            model = new OnnxEmbeddingModel(m.onnxFile().get(), m.tokenizerFile().get(), PoolingMode.MEAN, sameThread);
        } else {
            model = new E5SmallV2QuantizedEmbeddingModel(sameThread);
        }
        this.name = m.name();
        this.passagePrefix = m.passagePrefix();
        this.queryPrefix = m.queryPrefix();
        this.dimension = embed("dimension probe").length;
        Log.infof("embedding model %s loaded (%d dimensions)", name, dimension);
    }

    public String name() {
        return name;
    }

    public int dimension() {
        return dimension;
    }

    public float[] passage(String text) {
        return embed(passagePrefix + text);
    }

    public float[] query(String text) {
        return embed(queryPrefix + text);
    }

    private float[] embed(String text) {
        float[] v = model.embed(text).content().vector();
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        if (norm > 0) {
            for (int i = 0; i < v.length; i++) {
                v[i] /= (float) norm;
            }
        }
        return v;
    }
}
