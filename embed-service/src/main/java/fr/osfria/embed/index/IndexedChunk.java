package fr.osfria.embed.index;

import java.util.Map;

/**
 * A chunk as the vector store keeps it. {@code text} and {@code section} are stored as received: clear, or
 * sealed for a confidential document. Keyword search indexes {@code keywordText} (clear chunks) or
 * {@code blindTerms} (keyed hashes of a confidential chunk's words), never both.
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
        String blindTerms) {
}
