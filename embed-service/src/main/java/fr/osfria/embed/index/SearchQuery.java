package fr.osfria.embed.index;

import java.util.List;
import java.util.Map;

/**
 * A search, with the caller's rights as part of it: only {@code collection}, only documents without a
 * department or in {@code departments} (null: every department), confidential ones only when {@code cleared}.
 *
 * @param filters     equality on metadata keys (and {@code department}, {@code confidential}, {@code document_id});
 *                    a list value means any of
 * @param vector      the query's embedding, for dense and hybrid modes
 * @param keywordText the query's words, for keyword and hybrid modes
 * @param blindTerms  the query's words as keyed hashes, to reach confidential chunks (cleared callers only)
 */
public record SearchQuery(
        String collection,
        List<String> departments,
        boolean cleared,
        Map<String, List<String>> filters,
        Mode mode,
        float[] vector,
        String keywordText,
        String blindTerms,
        int topK) {

    public enum Mode { DENSE, KEYWORD, HYBRID }
}
