package fr.osfria.ingest.chunking;

/** A paragraph of extracted text, with the page it is on (1-based, null when the format has no pages) and its section heading. */
public record TextBlock(Integer page, String section, String text) {
}
