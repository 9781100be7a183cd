package fr.osfria.ingest.parsing;

import fr.osfria.ingest.chunking.TextBlock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDDocumentOutline;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineItem;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineNode;

/**
 * PDFs carry no heading markup; their outline (bookmarks) is what names their sections. Each bookmark points at
 * a page: a paragraph's section is the last bookmark at or before its page. Read by {@link OutlinePdfParser} from
 * the document Tika loads, so the PDF is not loaded a second time.
 */
final class PdfOutline {

    /**
     * Bookmarks read at most, the first in outline order: each is an object PDFBox parses (from an object stream,
     * at a cost that grows with the stream), and 100,000 of them took 10-25 s on 2 cores.
     */
    static final int MAX_ENTRIES = 10_000;
    /** Nesting followed at most. */
    static final int MAX_DEPTH = 16;

    private record Mark(int page, String title) {
    }

    private List<Mark> marks = List.of();
    private boolean read;

    /** Reads the outline of the first document loaded in the parse (not an embedded one's); no outline, no marks. */
    void readFrom(PDDocument doc) throws IOException {
        if (read) {
            return;
        }
        read = true;
        PDDocumentOutline outline = doc.getDocumentCatalog().getDocumentOutline();
        if (outline == null) {
            return;
        }
        List<Mark> found = new ArrayList<>();
        collect(doc, outline, found, new HashSet<>(), new HashMap<>(), 0);
        found.sort(Comparator.comparingInt(Mark::page)); // stable: outline order within a page
        marks = found;
    }

    /** The blocks with their sections from the outline; unchanged when the PDF has none. */
    List<TextBlock> applyTo(List<TextBlock> blocks) {
        if (marks.isEmpty()) {
            return blocks;
        }
        List<TextBlock> result = new ArrayList<>(blocks.size());
        for (TextBlock b : blocks) {
            Mark last = b.page() == null ? null : lastAtOrBefore(b.page());
            result.add(last == null ? b : new TextBlock(b.page(), last.title(), b.text()));
        }
        return result;
    }

    private Mark lastAtOrBefore(int page) {
        int low = 0;
        int high = marks.size(); // first mark past the page
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (marks.get(mid).page() <= page) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low == 0 ? null : marks.get(low - 1);
    }

    /**
     * Walks the outline once: an item met again (a child pointing back at an ancestor) is not walked again, so a
     * looping outline costs what its items cost, not a power of them.
     */
    private static void collect(PDDocument doc, PDOutlineNode node, List<Mark> marks, Set<COSDictionary> visited,
                                Map<COSDictionary, Integer> pageNumbers, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            return; // a hostile outline can nest without end
        }
        for (PDOutlineItem item : node.children()) {
            if (visited.size() >= MAX_ENTRIES) {
                return;
            }
            if (!visited.add(item.getCOSObject())) {
                continue;
            }
            PDPage page = item.findDestinationPage(doc);
            String title = item.getTitle() == null ? "" : item.getTitle().strip();
            if (page != null && !title.isEmpty()) {
                int number = pageNumbers.computeIfAbsent(page.getCOSObject(), p -> doc.getPages().indexOf(page) + 1);
                if (number > 0) {
                    marks.add(new Mark(number, title.length() > 300 ? title.substring(0, 300) : title));
                }
            }
            collect(doc, item, marks, visited, pageNumbers, depth + 1);
        }
    }
}
