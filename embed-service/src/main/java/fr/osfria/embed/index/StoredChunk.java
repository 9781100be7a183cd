package fr.osfria.embed.index;

import java.util.Map;

/** Everything the index stores about a chunk except its vectors: enough to rebuild it with another model. */
public record StoredChunk(String chunkId, String documentId, int version, int ordinal, int totalChunks, String collection,
                          String department, boolean confidential, Integer page, String section, String text,
                          String wrappedKey, Map<String, Object> metadata) {
}
