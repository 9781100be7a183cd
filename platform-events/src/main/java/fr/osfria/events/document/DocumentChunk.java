package fr.osfria.events.document;

import jakarta.validation.constraints.NotBlank;
import java.util.Map;

/**
 * Internal: one chunk of a document, ready to embed. For a confidential document {@code text} is AES-256-GCM
 * ciphertext (base64 of nonce, ciphertext and tag, with the chunk id as associated data), {@code encrypted} is
 * true and {@code wrappedKey} is the document's data key wrapped by the platform's key-encryption key.
 */
public record DocumentChunk(
        @NotBlank String documentId,
        int version,
        @NotBlank String chunkId,
        int ordinal,
        int totalChunks,
        @NotBlank String collection,
        String department,
        boolean confidential,
        boolean encrypted,
        Integer page,
        String section,
        @NotBlank String text,
        Map<String, Object> metadata,
        String wrappedKey) {
}
