package fr.osfria.embed.index;

import java.util.Map;

/** A chunk found, with its stored fields (text and section still sealed if confidential) and its score. */
public record SearchHit(String chunkId, String documentId, float score, boolean confidential, Integer page,
                        String section, String text, String wrappedKey, Map<String, Object> metadata) {
}
