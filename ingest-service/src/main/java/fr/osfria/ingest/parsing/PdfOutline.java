package fr.osfria.ingest.parsing;

import fr.osfria.ingest.chunking.TextBlock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.io.RandomAccessRead;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineItem;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineNode;

/**
 * PDFs carry no heading markup; their outline (bookmarks) is what names their sections. Each bookmark points at
 * a page: a paragraph's section is the last bookmark at or before its page.
 */
final class PdfOutline {

    private record Mark(int page, String title) {
    }

    /** The blocks with their sections from the outline; unchanged when the PDF has none. */
    static List<TextBlock> applyTo(List<TextBlock> blocks, RandomAccessRead pdf) throws IOException {
        List<Mark> marks = new ArrayList<>();
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            if (doc.getDocumentCatalog().getDocumentOutline() == null) {
                return blocks;
            }
            collect(doc, doc.getDocumentCatalog().getDocumentOutline(), marks, 0);
        }
        if (marks.isEmpty()) {
            return blocks;
        }
        marks.sort((a, b) -> Integer.compare(a.page(), b.page())); // stable: outline order within a page
        List<TextBlock> result = new ArrayList<>(blocks.size());
        for (TextBlock b : blocks) {
            String section = b.section();
            for (Mark m : marks) {
                if (b.page() != null && m.page() <= b.page()) {
                    section = m.title();
                }
            }
            result.add(new TextBlock(b.page(), section, b.text()));
        }
        return result;
    }

    private static void collect(PDDocument doc, PDOutlineNode node, List<Mark> marks, int depth) throws IOException {
        if (depth > 16) {
            return; // a hostile outline can nest without end
        }
        for (PDOutlineItem item : node.children()) {
            PDPage page = item.findDestinationPage(doc);
            String title = item.getTitle() == null ? "" : item.getTitle().strip();
            if (page != null && !title.isEmpty()) {
                marks.add(new Mark(doc.getPages().indexOf(page) + 1, title.length() > 300 ? title.substring(0, 300) : title));
            }
            collect(doc, item, marks, depth + 1);
        }
    }

    private PdfOutline() {
    }
}
