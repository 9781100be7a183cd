package fr.osfria.ingest.chunking;

/** A piece of a document sized for the embedding model. {@code tokens} is the estimate the chunker worked with. */
public record Chunk(int ordinal, Integer page, String section, String text, int tokens) {
}
