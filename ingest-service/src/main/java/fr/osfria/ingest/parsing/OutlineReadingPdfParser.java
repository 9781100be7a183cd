package fr.osfria.ingest.parsing;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.apache.pdfbox.io.RandomAccessStreamCache.StreamCacheCreateFunction;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.tika.exception.EncryptedDocumentException;
import org.apache.tika.io.TikaInputStream;
import org.apache.tika.metadata.Metadata;
import org.apache.tika.parser.ParseContext;
import org.apache.tika.parser.pdf.PDFParser;

/**
 * Tika's PDF parser, which also reads the outline ({@link PdfOutline}) from the document it has just loaded, so a
 * PDF is loaded once: loading it a second time with PDFBox only for its bookmarks cost a few percent of every parse.
 */
final class OutlineReadingPdfParser extends PDFParser {

    /** Where the outline goes; the caller puts one in the {@link ParseContext}. */
    static final class Outline {
        private List<PdfOutline.Mark> marks = List.of();

        List<PdfOutline.Mark> marks() {
            return marks;
        }
    }

    @Override
    protected PDDocument getPDDocument(InputStream in, TikaInputStream tis, String password,
                                       StreamCacheCreateFunction cache, Metadata metadata, ParseContext context)
            throws IOException, EncryptedDocumentException {
        PDDocument document = super.getPDDocument(in, tis, password, cache, metadata, context);
        Outline outline = context.get(Outline.class);
        if (outline != null) {
            try {
                outline.marks = PdfOutline.read(document);
            } catch (IOException | RuntimeException e) {
                document.close(); // Tika closes only a document it got back
                throw e;
            }
        }
        return document;
    }
}
