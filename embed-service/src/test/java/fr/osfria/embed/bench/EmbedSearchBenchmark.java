package fr.osfria.embed.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import fr.osfria.embed.EmbedConfig;
import fr.osfria.embed.embedding.Embedder;
import fr.osfria.embed.index.IndexedChunk;
import fr.osfria.embed.index.LuceneStore;
import fr.osfria.embed.index.SearchHit;
import fr.osfria.embed.index.SearchQuery;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Not a test: figures, run with {@code bench/embed.sh}. (1) Embedding throughput of the service's path next to
 * bare ONNX Runtime on the same model and inputs in the same run. (2) Dense search latency and recall@10 against
 * exact search at 100,000 chunks in the embedded store.
 */
class EmbedSearchBenchmark {

    private static final int TEXTS = 200;
    private static final int CHUNKS = 100_000;
    private static final int QUERIES = 1_000;

    @Test
    void figures() throws Exception {
        String part = System.getProperty("bench.part", "all"); // embedding | search | all
        if (!"search".equals(part)) {
            embedding();
        }
        if (!"embedding".equals(part)) {
            search();
        }
    }

    private void embedding() throws Exception {
        Embedder embedder = new Embedder(config());
        List<String> texts = new ArrayList<>();
        Random random = new Random(1);
        String[] words = "la procédure de remboursement des frais professionnels est validée par le directeur financier selon le budget annuel de formation et de sécurité".split(" ");
        for (int i = 0; i < TEXTS; i++) {
            StringBuilder t = new StringBuilder();
            for (int w = 0; w < 180; w++) {
                t.append(words[random.nextInt(words.length)]).append(' ');
            }
            texts.add(t.toString());
        }
        Path dir = Files.createTempDirectory("e5");
        Path model = copy("/e5-small-v2-q.onnx", dir.resolve("model.onnx"));
        Path tokenizerFile = copy("/e5-small-v2-q-tokenizer.json", dir.resolve("tokenizer.json"));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model.toString(), new OrtSession.SessionOptions());
             HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(tokenizerFile, Map.of("maxLength", "512", "truncation", "true"))) {
            for (int i = 0; i < 10; i++) { // warm-up
                bare(env, session, tokenizer, "passage: " + texts.get(i));
                embedder.passage(texts.get(i));
            }
            long[] bareNs = new long[3];
            long[] serviceNs = new long[3];
            for (int round = 0; round < 3; round++) {
                long t0 = System.nanoTime();
                for (String t : texts) {
                    bare(env, session, tokenizer, "passage: " + t);
                }
                long t1 = System.nanoTime();
                for (String t : texts) {
                    embedder.passage(t);
                }
                serviceNs[round] = System.nanoTime() - t1;
                bareNs[round] = t1 - t0;
            }
            Arrays.sort(bareNs);
            Arrays.sort(serviceNs);
            double bareRate = TEXTS / (bareNs[1] / 1e9);
            double serviceRate = TEXTS / (serviceNs[1] / 1e9);
            System.out.printf("BENCH embedding, %d chunks of ~230 tokens, one at a time on this machine%n", TEXTS);
            System.out.printf("BENCH bare ONNX Runtime   %6.1f chunks/s%n", bareRate);
            System.out.printf("BENCH service path        %6.1f chunks/s%n", serviceRate);
            System.out.printf("BENCH ratio               %6.2f (target >= 0.90)%n", serviceRate / bareRate);
        }
    }

    /** Tokenise, run, mean-pool over the attention mask, normalise: what any e5 client must do. */
    private static float[] bare(OrtEnvironment env, OrtSession session, HuggingFaceTokenizer tokenizer, String text) throws Exception {
        Encoding enc = tokenizer.encode(text);
        long[][] ids = {enc.getIds()};
        long[][] mask = {enc.getAttentionMask()};
        long[][] types = {enc.getTypeIds()};
        try (OnnxTensor a = OnnxTensor.createTensor(env, ids); OnnxTensor b = OnnxTensor.createTensor(env, mask);
             OnnxTensor c = OnnxTensor.createTensor(env, types);
             OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
            float[][][] hidden = (float[][][]) r.get(0).getValue();
            float[] pooled = new float[hidden[0][0].length];
            int n = 0;
            for (int t = 0; t < hidden[0].length; t++) {
                if (mask[0][t] == 1) {
                    n++;
                    for (int d = 0; d < pooled.length; d++) {
                        pooled[d] += hidden[0][t][d];
                    }
                }
            }
            double norm = 0;
            for (int d = 0; d < pooled.length; d++) {
                pooled[d] /= n;
                norm += pooled[d] * pooled[d];
            }
            for (int d = 0; d < pooled.length; d++) {
                pooled[d] /= (float) Math.sqrt(norm);
            }
            return pooled;
        }
    }

    private void search() throws Exception {
        int dim = 384;
        Random random = new Random(5);
        // clustered like real embeddings: 2,000 topics, chunks scattered around them
        float[][] centres = new float[2_000][];
        for (int i = 0; i < centres.length; i++) {
            centres[i] = unit(random, dim, null, 0);
        }
        float[][] vectors = new float[CHUNKS][];
        Path dir = Files.createTempDirectory("bench-index");
        long buildStart = System.nanoTime();
        try (LuceneStore store = new LuceneStore(dir, "bench", dim)) {
            List<IndexedChunk> batch = new ArrayList<>();
            for (int i = 0; i < CHUNKS; i++) {
                vectors[i] = unit(random, dim, centres[random.nextInt(centres.length)], 0.35);
                batch.add(new IndexedChunk("c" + i, "d" + (i / 20), 1, i % 20, 20, "kb", i % 3 == 0 ? "hr" : "finance", false,
                        1, null, "chunk " + i, null, Map.of(), vectors[i], "chunk " + i, null));
                if (batch.size() == 5_000) {
                    store.upsert(batch);
                    batch.clear();
                }
            }
            store.upsert(batch);
            store.commit();
            System.out.printf("BENCH index of %d chunks (%d dims) built in %.0f s%n", CHUNKS, dim, (System.nanoTime() - buildStart) / 1e9);
            long[] latencies = new long[QUERIES];
            double recall = 0;
            for (int q = 0; q < QUERIES + 100; q++) {
                float[] query = unit(random, dim, centres[random.nextInt(centres.length)], 0.35);
                long t0 = System.nanoTime();
                List<SearchHit> hits = store.search(new SearchQuery("kb", null, true, Map.of(), SearchQuery.Mode.DENSE, query, null, null, 10));
                long elapsed = System.nanoTime() - t0;
                if (q < 100) {
                    continue; // warm-up
                }
                latencies[q - 100] = elapsed;
                Set<String> found = new HashSet<>();
                hits.forEach(h -> found.add(h.chunkId()));
                recall += overlap(found, exact(vectors, query, 10)) / 10.0;
            }
            Arrays.sort(latencies);
            System.out.printf("BENCH dense search at %d chunks, top 10, %d queries (query embedding excluded): p50 %.2f ms, p95 %.2f ms, p99 %.2f ms (target p95 <= 5 ms)%n",
                    CHUNKS, QUERIES, latencies[QUERIES / 2] / 1e6, latencies[(int) (QUERIES * 0.95)] / 1e6, latencies[(int) (QUERIES * 0.99)] / 1e6);
            System.out.printf("BENCH recall@10 against exact search: %.3f (target >= 0.95)%n", recall / QUERIES);
        }
    }

    private static int overlap(Set<String> found, Set<String> truth) {
        int n = 0;
        for (String t : truth) {
            if (found.contains(t)) {
                n++;
            }
        }
        return n;
    }

    private static Set<String> exact(float[][] vectors, float[] query, int k) {
        Integer[] order = new Integer[vectors.length];
        float[] scores = new float[vectors.length];
        for (int i = 0; i < vectors.length; i++) {
            order[i] = i;
            float s = 0;
            for (int d = 0; d < query.length; d++) {
                s += vectors[i][d] * query[d];
            }
            scores[i] = s;
        }
        Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
        Set<String> top = new HashSet<>();
        for (int i = 0; i < k; i++) {
            top.add("c" + order[i]);
        }
        return top;
    }

    private static float[] unit(Random random, int dim, float[] around, double spread) {
        float[] v = new float[dim];
        double norm = 0;
        for (int i = 0; i < dim; i++) {
            v[i] = (float) ((around == null ? 0 : around[i]) + random.nextGaussian() * (around == null ? 1 : spread / Math.sqrt(dim)));
            norm += v[i] * v[i];
        }
        for (int i = 0; i < dim; i++) {
            v[i] /= (float) Math.sqrt(norm);
        }
        return v;
    }

    private static Path copy(String resource, Path target) throws Exception {
        try (InputStream in = EmbedSearchBenchmark.class.getResourceAsStream(resource)) {
            Files.copy(in, target);
        }
        return target;
    }

    private static EmbedConfig.Model config() {
        return new EmbedConfig.Model() {
            public Optional<Path> onnxFile() {
                return Optional.empty();
            }

            public Optional<Path> tokenizerFile() {
                return Optional.empty();
            }

            public String name() {
                return "e5-small-v2-q";
            }

            public String passagePrefix() {
                return "passage: ";
            }

            public String queryPrefix() {
                return "query: ";
            }
        };
    }
}
