package fr.osfria.ingest.parsing;

import fr.osfria.ingest.chunking.TextBlock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.xml.sax.Attributes;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Reads Tika's XHTML into paragraphs: a {@code <div class="page">} (PDF pages, spreadsheet sheets) or
 * {@code <div class="slide-content">} starts a new page, {@code <h1>}–{@code <h6>} set the section, and block
 * elements end a paragraph. Stops with {@link TooMuchText} past {@code maxChars}.
 */
final class BlockCollector extends DefaultHandler {

    /** Thrown to stop parsing when the extracted text passes the limit. */
    static final class TooMuchText extends SAXException {
        TooMuchText(String message) {
            super(message);
        }
    }

    private static final Set<String> BLOCKS = Set.of("p", "li", "tr", "pre", "blockquote", "div", "dd", "dt",
            "caption", "title", "table", "ul", "ol", "body");

    private final long maxChars;
    private final List<TextBlock> blocks = new ArrayList<>();
    private final StringBuilder text = new StringBuilder();
    private final StringBuilder heading = new StringBuilder();
    private int headingDepth;
    private int page;
    private boolean paged;
    private String section;
    private long total;

    BlockCollector(long maxChars) {
        this.maxChars = maxChars;
    }

    @Override
    public void startElement(String uri, String localName, String qName, Attributes atts) {
        String name = localName.toLowerCase(Locale.ROOT);
        String cls = atts.getValue("class");
        if ("div".equals(name) && ("page".equals(cls) || "slide-content".equals(cls))) {
            flush();
            page++;
            paged = true;
        } else if (isHeading(name)) {
            flush();
            headingDepth++;
            heading.setLength(0);
        } else if (BLOCKS.contains(name)) {
            flush();
        } else if ("td".equals(name) || "th".equals(name)) {
            text.append(text.isEmpty() ? "" : " | ");
        } else if ("br".equals(name)) {
            text.append('\n');
        }
    }

    @Override
    public void endElement(String uri, String localName, String qName) {
        String name = localName.toLowerCase(Locale.ROOT);
        if (isHeading(name)) {
            headingDepth = Math.max(0, headingDepth - 1);
            String h = heading.toString().replaceAll("\\s+", " ").strip();
            if (!h.isEmpty()) {
                section = h.length() > 300 ? h.substring(0, 300) : h;
                blocks.add(new TextBlock(currentPage(), section, h));
            }
            heading.setLength(0);
        } else if (BLOCKS.contains(name)) {
            flush();
        }
    }

    @Override
    public void characters(char[] ch, int start, int length) throws SAXException {
        total += length;
        if (total > maxChars) {
            throw new TooMuchText("the document's text exceeds " + maxChars + " characters");
        }
        (headingDepth > 0 ? heading : text).append(ch, start, length);
    }

    @Override
    public void ignorableWhitespace(char[] ch, int start, int length) {
        text.append(' ');
    }

    @Override
    public void endDocument() {
        flush();
    }

    List<TextBlock> blocks() {
        return blocks;
    }

    /** The number of pages or slides seen, or null when the format has none. */
    Integer pages() {
        return paged ? page : null;
    }

    /**
     * Ends the current paragraph. Plain text arrives as one element, so blank lines split it further; runs of
     * white space become one space. One pass, no regular expressions: this runs on every paragraph of every page.
     */
    private void flush() {
        if (text.isEmpty()) {
            return;
        }
        StringBuilder paragraph = new StringBuilder(text.length());
        boolean pendingSpace = false;
        int newlines = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c) || c == '\u00A0') {
                if (c == '\n') {
                    newlines++;
                }
                pendingSpace = true;
                continue;
            }
            if (newlines >= 2) {
                addBlock(paragraph);
            } else if (pendingSpace && !paragraph.isEmpty()) {
                paragraph.append(' ');
            }
            paragraph.append(c);
            pendingSpace = false;
            newlines = 0;
        }
        addBlock(paragraph);
        text.setLength(0);
    }

    private void addBlock(StringBuilder paragraph) {
        if (!paragraph.isEmpty()) {
            blocks.add(new TextBlock(currentPage(), section, paragraph.toString()));
            paragraph.setLength(0);
        }
    }

    private Integer currentPage() {
        return paged ? Math.max(page, 1) : null;
    }

    private static boolean isHeading(String name) {
        return name.length() == 2 && name.charAt(0) == 'h' && name.charAt(1) >= '1' && name.charAt(1) <= '6';
    }
}
