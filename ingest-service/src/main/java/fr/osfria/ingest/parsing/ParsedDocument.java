package fr.osfria.ingest.parsing;

import fr.osfria.ingest.chunking.TextBlock;
import java.util.List;

/** The text of a document as paragraphs with their page and section, and its page count where the format has pages. */
public record ParsedDocument(String contentType, List<TextBlock> blocks, Integer pages) {
}
