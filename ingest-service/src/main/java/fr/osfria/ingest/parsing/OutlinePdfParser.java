package fr.osfria.ingest.parsing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import org.apache.pdfbox.io.RandomAccessStreamCache;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.tika.metadata.Metadata;
import org.apache.tika.parser.ParseContext;
import org.apache.tika.parser.pdf.PDFParser;

/**
 * Tika's PDF parser, which also reads the outline of the document it loads into the {@link PdfOutline} of the
 * parse's context. Registered inside the {@code AutoDetectParser}, in the place of Tika's own, so that a PDF is
 * parsed as bare Tika parses it (PDFParser called on its own, outside the auto-detecting path, cost twice the
 * CPU per page) and loaded once.
 */
final class OutlinePdfParser extends PDFParser {

    @Override
    protected PDDocument getPDDocument(Path path, String password,
                                       RandomAccessStreamCache.StreamCacheCreateFunction cache, Metadata metadata,
                                       ParseContext context) throws IOException {
        return withOutline(super.getPDDocument(path, password, cache, metadata, context), context);
    }

    @Override
    protected PDDocument getPDDocument(InputStream stream, String password,
                                       RandomAccessStreamCache.StreamCacheCreateFunction cache, Metadata metadata,
                                       ParseContext context) throws IOException {
        return withOutline(super.getPDDocument(stream, password, cache, metadata, context), context);
    }

    private static PDDocument withOutline(PDDocument doc, ParseContext context) throws IOException {
        PdfOutline outline = context.get(PdfOutline.class);
        if (outline != null) {
            try {
                outline.readFrom(doc);
            } catch (IOException | RuntimeException e) {
                doc.close(); // Tika closes only a document it got back
                throw e;
            }
        }
        return doc;
    }
}
