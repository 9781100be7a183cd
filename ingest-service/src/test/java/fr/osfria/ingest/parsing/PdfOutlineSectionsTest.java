package fr.osfria.ingest.parsing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import fr.osfria.ingest.chunking.TextBlock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.destination.PDPageFitDestination;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDDocumentOutline;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineItem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A PDF's sections come from its outline (bookmarks), read from the document Tika loads; hostile outlines stay bounded. */
class PdfOutlineSectionsTest {

    @TempDir
    Path dir;

    private final DocumentParser parser = new DocumentParser(DocumentParserTest.config(Duration.ofSeconds(30), 20_000_000));

    private static List<String> sections(ParsedDocument doc) {
        return doc.blocks().stream().map(TextBlock::section).toList();
    }

    @Test
    void sectionsComeFromTheOutlineOnDiskAndInMemory() throws Exception {
        byte[] pdf = Fixtures.pdf(List.of("Introduction au manuel.", "Suite de l'introduction.", "Installer le poste."),
                Map.of(1, "Introduction", 3, "Installation"), null);
        List<String> expected = List.of("Introduction", "Introduction", "Installation");
        assertEquals(expected, sections(parser.parse(Files.write(dir.resolve("manuel.pdf"), pdf), "manuel.pdf")));
        // a confidential document is parsed from its decrypted bytes in memory
        assertEquals(expected, sections(parser.parse(pdf, "manuel.pdf", "application/pdf")));
    }

    @Test
    void aPdfWithoutOutlineHasNoSections() throws Exception {
        byte[] pdf = Fixtures.pdf(List.of("Une page.", "Une autre."), null);
        ParsedDocument doc = parser.parse(pdf, "sans-signets.pdf", "application/pdf");
        assertEquals(Arrays.asList(null, null), sections(doc));
        assertEquals(List.of(1, 2), doc.blocks().stream().map(TextBlock::page).toList());
    }

    @Test
    void anOutlineEncryptedWithoutUserPasswordStillNamesTheSections() throws Exception {
        byte[] pdf = Fixtures.pdf(List.of("Première page.", "Deuxième page."), Map.of(2, "Suite"), "");
        assertEquals(Arrays.asList(null, "Suite"), sections(parser.parse(pdf, "protege.pdf", "application/pdf")));
    }

    @Test
    void aBookmarkToAPageOutsideTheDocumentNamesNothing() throws Exception {
        byte[] pdf = pdf(3, (doc, outline) -> {
            outline.addLast(item("Page perdue", new PDPage())); // a page object the page tree does not hold
            outline.addLast(item("Deuxième partie", doc.getPage(1)));
        });
        assertEquals(Arrays.asList(null, "Deuxième partie", "Deuxième partie"),
                sections(parser.parse(pdf, "perdue.pdf", "application/pdf")));
    }

    @Test
    void anOutlineThatLoopsBackIsWalkedOnce() throws Exception {
        // each bookmark's children are the outline's own bookmarks again: walked naively, 12 items nested 16 deep
        // are 12^17 visits, and the parse runs into its time-out
        byte[] pdf = pdf(12, (doc, outline) -> {
            for (int p = 0; p < 12; p++) {
                outline.addLast(item("Partie " + (p + 1), doc.getPage(p)));
            }
            for (PDOutlineItem item : outline.children()) {
                item.getCOSObject().setItem(COSName.FIRST, outline.getFirstChild());
                item.getCOSObject().setItem(COSName.LAST, outline.getLastChild());
            }
        });
        List<String> expected = new ArrayList<>();
        for (int p = 1; p <= 12; p++) {
            expected.add("Partie " + p);
        }
        assertEquals(expected, sections(parser.parse(pdf, "boucle.pdf", "application/pdf")));
    }

    @Test
    void aDeeplyNestedOutlineIsReadSixteenLevelsDown() throws Exception {
        byte[] pdf = pdf(2, (doc, outline) -> {
            PDOutlineItem parent = item("Chapitre", doc.getPage(0));
            outline.addLast(parent);
            for (int depth = 1; depth <= 300; depth++) {
                PDOutlineItem child = item("Niveau " + depth, doc.getPage(1));
                parent.addLast(child);
                parent = child;
            }
        });
        assertEquals(List.of("Chapitre", "Niveau " + PdfOutline.MAX_DEPTH),
                sections(parser.parse(pdf, "profond.pdf", "application/pdf")));
    }

    @Test
    void tenThousandBookmarksAreReadAndNoMore() throws Exception {
        byte[] pdf = pdf(4, (doc, outline) -> {
            for (int i = 0; i < 2 * PdfOutline.MAX_ENTRIES; i++) {
                outline.addLast(item("Entrée " + i, doc.getPage(i % 4)));
            }
        });
        // on each page, the last of its bookmarks in outline order among the first 10,000
        assertEquals(List.of("Entrée 9996", "Entrée 9997", "Entrée 9998", "Entrée 9999"),
                sections(parser.parse(pdf, "signets.pdf", "application/pdf")));
    }

    private static PDOutlineItem item(String title, PDPage page) {
        PDOutlineItem item = new PDOutlineItem();
        item.setTitle(title);
        PDPageFitDestination destination = new PDPageFitDestination();
        destination.setPage(page);
        item.setDestination(destination);
        return item;
    }

    /** A PDF of {@code pages} pages of one line each, its outline written by {@code outline}. */
    private static byte[] pdf(int pages, BiConsumer<PDDocument, PDDocumentOutline> outline) throws IOException {
        try (PDDocument doc = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            PDType1Font font = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
            for (int p = 1; p <= pages; p++) {
                PDPage page = new PDPage();
                doc.addPage(page);
                try (PDPageContentStream content = new PDPageContentStream(doc, page)) {
                    content.beginText();
                    content.setFont(font, 11);
                    content.newLineAtOffset(50, 700);
                    content.showText("Texte de la page " + p + ".");
                    content.endText();
                }
            }
            PDDocumentOutline root = new PDDocumentOutline();
            doc.getDocumentCatalog().setDocumentOutline(root);
            outline.accept(doc, root);
            doc.save(out);
            return out.toByteArray();
        }
    }
}
