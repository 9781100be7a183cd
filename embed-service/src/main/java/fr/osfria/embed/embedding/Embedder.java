package fr.osfria.embed.embedding;

import fr.osfria.embed.EmbedConfig;
import io.quarkus.logging.Log;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Text to unit-length vectors, in process on the CPU (ONNX Runtime). Blocking: call it off the I/O thread.
 * Queries and passages get the model's prefixes, as e5 models were trained.
 *
 * <p>Passages are embedded together: the sequences of all the texts given are sorted by length, cut into runs of
 * at most {@code batch-size} sequences and {@code batch-tokens} padded tokens (so a run's memory is bounded whatever
 * the caller hands in), and {@code parallel-runs} runs go on at once on the embedding threads. One run (a lone
 * chunk, a query) is done on the calling thread at once: nothing waits to fill a batch, and a query never queues
 * behind a document's runs (ONNX Runtime runs concurrent calls of a session).
 */
@ApplicationScoped
public class Embedder {

    private final OnnxEncoder encoder;
    private final String name;
    private final String passagePrefix;
    private final String queryPrefix;
    private final int batchSize;
    private final int batchTokens;
    private final ExecutorService runs;

    @jakarta.inject.Inject
    public Embedder(EmbedConfig config) {
        this(config.model());
    }

    public Embedder(EmbedConfig.Model m) {
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = Math.max(1, m.threads());
        int parallel = m.parallelRuns() > 0 ? m.parallelRuns() : cores;
        this.batchSize = Math.max(1, m.batchSize());
        this.batchTokens = Math.max(m.batchTokens(), OnnxEncoder.MAX_SEQUENCE_TOKENS + 2);
        try {
            if (m.onnxFile().isPresent()) {
                if (m.tokenizerFile().isEmpty()) {
                    throw new IllegalArgumentException("osfria.embed.model.onnx-file needs osfria.embed.model.tokenizer-file");
                }
                try (InputStream tokenizer = Files.newInputStream(m.tokenizerFile().get())) {
                    encoder = new OnnxEncoder(Files.readAllBytes(m.onnxFile().get()), tokenizer, threads);
                }
            } else { // the quantized e5-small-v2 of the langchain4j jar
                try (InputStream model = resource("e5-small-v2-q.onnx");
                     InputStream tokenizer = resource("e5-small-v2-q-tokenizer.json")) {
                    encoder = new OnnxEncoder(model.readAllBytes(), tokenizer, threads);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ai.onnxruntime.OrtException e) {
            throw new IllegalStateException("the embedding model cannot be loaded: " + e.getMessage(), e);
        }
        this.name = m.name();
        this.passagePrefix = m.passagePrefix();
        this.queryPrefix = m.queryPrefix();
        AtomicInteger n = new AtomicInteger();
        this.runs = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "osfria-embedding-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        Log.infof("embedding model %s loaded (%d dimensions; %d runs at once of up to %d sequences, %d threads each)",
                name, encoder.dimension(), parallel, batchSize, threads);
    }

    private static InputStream resource(String name) {
        InputStream in = Embedder.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("the built-in embedding model " + name + " is not on the class path");
        }
        return in;
    }

    public String name() {
        return name;
    }

    public int dimension() {
        return encoder.dimension();
    }

    public float[] passage(String text) {
        return embed(List.of(passagePrefix + text)).get(0);
    }

    /** The vectors of several passages, in their order; one that cannot be embedded fails the call. */
    public List<float[]> passages(List<String> texts) {
        return embed(texts.stream().map(t -> passagePrefix + t).toList());
    }

    public float[] query(String text) {
        return embed(List.of(queryPrefix + text)).get(0);
    }

    /** A sequence of the texts being embedded: which text, which of its sequences. */
    private record Part(int text, OnnxEncoder.Sequence sequence) {
    }

    private List<float[]> embed(List<String> texts) {
        List<Part> parts = new ArrayList<>();
        List<List<OnnxEncoder.Sequence>> sequences = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            List<OnnxEncoder.Sequence> s = encoder.sequences(texts.get(i));
            sequences.add(s);
            for (OnnxEncoder.Sequence q : s) {
                parts.add(new Part(i, q));
            }
        }
        parts.sort(Comparator.comparingInt(p -> p.sequence().ids().length)); // alike lengths together: little padding
        List<List<Part>> batches = new ArrayList<>();
        int from = 0;
        while (from < parts.size()) {
            int to = from + 1;
            while (to < parts.size() && to - from < batchSize
                    && (long) (to - from + 1) * parts.get(to).sequence().ids().length <= batchTokens) {
                to++;
            }
            batches.add(parts.subList(from, to));
            from = to;
        }
        List<float[][]> pooled = new ArrayList<>();
        if (batches.size() == 1) { // a query, a lone chunk: at once, on this thread
            pooled.add(run(batches.get(0)));
        } else {
            List<Future<float[][]>> futures = new ArrayList<>();
            for (List<Part> b : batches) {
                futures.add(runs.submit(() -> run(b)));
            }
            try {
                for (Future<float[][]> f : futures) {
                    pooled.add(f.get());
                }
            } catch (InterruptedException e) {
                futures.forEach(f -> f.cancel(true));
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while embedding", e);
            } catch (ExecutionException e) {
                futures.forEach(f -> f.cancel(true));
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            }
        }
        // each text's vector: its sequences' pooled vectors, weighted by their tokens when it has several
        float[][] sums = new float[texts.size()][];
        for (int b = 0; b < batches.size(); b++) {
            List<Part> batch = batches.get(b);
            for (int i = 0; i < batch.size(); i++) {
                Part p = batch.get(i);
                boolean alone = sequences.get(p.text()).size() == 1;
                float[] v = pooled.get(b)[i];
                if (sums[p.text()] == null) {
                    sums[p.text()] = new float[v.length];
                }
                for (int d = 0; d < v.length; d++) {
                    sums[p.text()][d] += alone ? v[d] : v[d] * p.sequence().weight();
                }
            }
        }
        List<float[]> vectors = new ArrayList<>(texts.size());
        for (float[] v : sums) {
            vectors.add(normalise(v));
        }
        return vectors;
    }

    private float[][] run(List<Part> batch) {
        try {
            return encoder.run(batch.stream().map(p -> p.sequence().ids()).toList());
        } catch (ai.onnxruntime.OrtException e) {
            throw new IllegalStateException("the embedding model failed: " + e.getMessage(), e);
        }
    }

    private static float[] normalise(float[] v) {
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

    @PreDestroy
    void close() {
        runs.shutdownNow();
        try {
            // a run inside the native session must end before the session closes under it
            if (!runs.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
                Log.warn("embedding runs still going at shutdown: the model is left to close with the process");
                return;
            }
            encoder.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ai.onnxruntime.OrtException e) {
            Log.debugf("closing the embedding model: %s", e.getMessage());
        }
    }
}
