package fr.osfria.embed.embedding;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;

/**
 * A BERT-style ONNX model and its tokeniser: token sequences in, mean-pooled (not yet normalised) vectors out,
 * several sequences per run, padded to the longest of the run and masked. A text of more than 510 tokens is cut into
 * sequences at word boundaries exactly as the library the service used before did (dev.langchain4j's
 * OnnxBertBiEncoder), so vectors already in an index stay comparable with new ones. Thread-safe: ONNX Runtime
 * sessions may run concurrently, and nothing here is shared between runs.
 */
final class OnnxEncoder implements AutoCloseable {

    /** 512 positions minus [CLS] and [SEP]. */
    static final int MAX_SEQUENCE_TOKENS = 510;

    /** One sequence of a text: its token ids ([CLS] … [SEP]) and its weight in the text's vector (its tokens). */
    record Sequence(long[] ids, int weight) {
    }

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final boolean tokenTypes;
    private final int dimension;

    OnnxEncoder(byte[] model, InputStream tokenizerJson, int threads) throws OrtException, IOException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            // the threads sleep between runs rather than spin: the cores are shared with the broker and the services
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            session = env.createSession(model, options);
        }
        tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of("padding", "false"));
        tokenTypes = session.getInputNames().contains("token_type_ids");
        dimension = run(List.of(sequences("dimension probe").get(0).ids()))[0].length;
    }

    int dimension() {
        return dimension;
    }

    /** The sequences a text is embedded as: one, or one per 510 tokens for a longer text. */
    List<Sequence> sequences(String text) {
        List<String> tokens = tokenizer.tokenize(text);
        if (tokens.size() <= 2) {
            throw new IllegalArgumentException("Cannot embed empty or whitespace-only text");
        }
        List<Sequence> sequences = new ArrayList<>();
        int from = 1; // after [CLS]
        while (from < tokens.size() - 1) { // before [SEP]
            int to = from + MAX_SEQUENCE_TOKENS;
            if (to >= tokens.size() - 1) {
                to = tokens.size() - 1;
            } else {
                int end = to;
                while (to > from && tokens.get(to).startsWith("##")) { // a word is not split between two sequences…
                    to--;
                }
                if (to == from) { // …unless it is longer than a sequence (a tokeniser without a word length cap)
                    to = end;
                }
            }
            List<String> part = tokens.subList(from, to);
            sequences.add(new Sequence(tokenizer.encode(toText(part), true, false).getIds(), part.size()));
            from = to;
        }
        return sequences;
    }

    /** The text of some tokens, as the former library re-encoded them (decoded, or joined when decoding alters them). */
    private String toText(List<String> tokens) {
        String text = tokenizer.buildSentence(tokens);
        List<String> again = new LinkedList<>(tokenizer.tokenize(text));
        again.remove(0);
        again.remove(again.size() - 1);
        return again.equals(tokens) ? text : String.join("", tokens);
    }

    /**
     * One run over some sequences, padded to the longest with attention mask 0 on the padding: the mean of each
     * sequence's own token vectors, in the order given.
     */
    float[][] run(List<long[]> batch) throws OrtException {
        int n = batch.size();
        int length = 0;
        for (long[] ids : batch) {
            length = Math.max(length, ids.length);
        }
        long[] ids = new long[n * length]; // padding id 0 ([PAD]), mask 0
        long[] mask = new long[n * length];
        for (int i = 0; i < n; i++) {
            long[] s = batch.get(i);
            System.arraycopy(s, 0, ids, i * length, s.length);
            java.util.Arrays.fill(mask, i * length, i * length + s.length, 1L);
        }
        long[] shape = {n, length};
        try (OnnxTensor idsTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
             OnnxTensor maskTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OnnxTensor typesTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[n * length]), shape)) {
            Map<String, OnnxTensor> inputs = new HashMap<>();
            inputs.put("input_ids", idsTensor);
            inputs.put("attention_mask", maskTensor);
            if (tokenTypes) {
                inputs.put("token_type_ids", typesTensor);
            }
            try (OrtSession.Result result = session.run(inputs)) {
                OnnxTensor hidden = (OnnxTensor) result.get(0);
                long[] outShape = hidden.getInfo().getShape(); // [n, length, dimension]
                int dim = (int) outShape[2];
                FloatBuffer h = hidden.getFloatBuffer();
                float[][] pooled = new float[n][dim];
                for (int i = 0; i < n; i++) {
                    int tokens = batch.get(i).length;
                    for (int t = 0; t < tokens; t++) {
                        int base = (i * length + t) * dim;
                        for (int d = 0; d < dim; d++) {
                            pooled[i][d] += h.get(base + d);
                        }
                    }
                    for (int d = 0; d < dim; d++) {
                        pooled[i][d] /= tokens;
                    }
                }
                return pooled;
            }
        }
    }

    @Override
    public void close() throws OrtException {
        tokenizer.close();
        session.close();
    }
}
