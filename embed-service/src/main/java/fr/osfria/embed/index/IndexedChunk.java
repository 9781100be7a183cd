package fr.osfria.embed.index;

import java.util.List;
import java.util.Map;

/**
 * A chunk as the vector store keeps it. {@code text} and {@code section} are stored as received: clear, or
 * sealed for a confidential document; so is {@code metadata} (a confidential document's values sealed). Keyword
 * search indexes {@code keywordText} (clear chunks) or {@code blindTerms} (keyed hashes of a confidential chunk's
 * words), never both. Metadata filters match {@code filterTerms}: per key, the clear values, or for a
 * confidential document's sealed values their keyed hashes ({@link MetadataTokens}).
 */
public record IndexedChunk(
        String chunkId,
        String documentId,
        int version,
        int ordinal,
        int totalChunks,
        String collection,
        String department,
        boolean confidential,
        Integer page,
        String section,
        String text,
        String wrappedKey,
        Map<String, Object> metadata,
        float[] vector,
        String keywordText,
        String blindTerms,
        Map<String, List<String>> filterTerms) {

    /** A chunk whose metadata is clear: its filter terms are its values. */
    public IndexedChunk(String chunkId, String documentId, int version, int ordinal, int totalChunks, String collection,
                        String department, boolean confidential, Integer page, String section, String text,
                        String wrappedKey, Map<String, Object> metadata, float[] vector, String keywordText,
                        String blindTerms) {
        this(chunkId, documentId, version, ordinal, totalChunks, collection, department, confidential, page, section, text,
                wrappedKey, metadata, vector, keywordText, blindTerms, MetadataTokens.clearTerms(metadata));
    }
}
