package fr.osfria.embed.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.embedding.onnx.e5smallv2q.E5SmallV2QuantizedEmbeddingModel;
import fr.osfria.embed.EmbedConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Embedding chunks together gives the vectors embedding them one at a time gave, on the real model and texts of very
 * different lengths (a word, a paragraph, a chunk of several hundred tokens, one over 510 tokens that is cut in two
 * sequences), against the library the service embedded with before, one text at a time.
 */
class BatchedEmbeddingTest {

    private static final E5SmallV2QuantizedEmbeddingModel BEFORE = new E5SmallV2QuantizedEmbeddingModel(Runnable::run);

    @Test
    void chunksEmbeddedTogetherGetTheSingleSequenceVectors() {
        List<String> texts = texts();
        Embedder embedder = new Embedder(model(2, 1, 8_192)); // the default: runs of one sequence, two at once
        List<float[]> vectors = embedder.passages(texts);
        assertEquals(texts.size(), vectors.size());
        for (int i = 0; i < texts.size(); i++) {
            float[] single = BEFORE.embed("passage: " + texts.get(i)).content().vector();
            for (int d = 0; d < single.length; d++) {
                assertEquals(single[d], vectors.get(i)[d], 1e-5, "text " + i + " (" + texts.get(i).length() + " chars), dimension " + d);
            }
        }
        float[] query = embedder.query("remboursement des frais");
        float[] queryBefore = BEFORE.embed("query: remboursement des frais").content().vector();
        for (int d = 0; d < query.length; d++) {
            assertEquals(queryBefore[d], query[d], 1e-5);
        }
    }

    /**
     * Padded runs (batch-size > 1): the padding is masked out of attention and pooling. The built-in model quantizes
     * a run's activations as a whole, so the vectors move a little with their neighbours (measured: cosine
     * 0.9967–0.9993, largest component difference 0.014); padding that leaked into attention or pooling moves a
     * short text padded to hundreds of tokens much further than that.
     */
    @Test
    void paddedRunsMaskThePadding() {
        List<String> texts = texts();
        Embedder padded = new Embedder(model(1, 4, 1_024));
        List<float[]> vectors = padded.passages(texts);
        for (int i = 0; i < texts.size(); i++) {
            float[] single = BEFORE.embed("passage: " + texts.get(i)).content().vector();
            double cosine = 0;
            for (int d = 0; d < single.length; d++) {
                cosine += single[d] * vectors.get(i)[d];
                assertEquals(single[d], vectors.get(i)[d], 0.03, "text " + i + ", dimension " + d);
            }
            assertTrue(cosine > 0.995, "text " + i + ": cosine " + cosine);
        }
    }

    private static List<String> texts() {
        List<String> texts = new ArrayList<>();
        Random random = new Random(7);
        String[] words = ("la procédure de remboursement des frais professionnels est validée par le directeur financier "
                + "the quarterly budget review covers training safety and unexpected maintenance costs").split(" ");
        for (int length : new int[] {3, 250, 1, 40, 700, 12, 180, 90, 5, 320, 60, 2}) {
            StringBuilder t = new StringBuilder();
            for (int w = 0; w < length; w++) {
                t.append(words[random.nextInt(words.length)]).append(' ');
            }
            texts.add(t.toString().trim());
        }
        return texts;
    }

    static EmbedConfig.Model model(int parallelRuns, int batchSize, int batchTokens) {
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

            public int parallelRuns() {
                return parallelRuns;
            }

            public int threads() {
                return 1;
            }

            public int batchSize() {
                return batchSize;
            }

            public int batchTokens() {
                return batchTokens;
            }
        };
    }
}
