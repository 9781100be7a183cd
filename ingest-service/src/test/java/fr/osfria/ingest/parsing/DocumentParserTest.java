package fr.osfria.ingest.parsing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.ingest.IngestConfig;
import fr.osfria.ingest.chunking.TextBlock;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real Tika on real documents of each format. */
class DocumentParserTest {

    @TempDir
    Path dir;

    static IngestConfig.Parsing config(Duration timeout, long maxChars) {
        return new IngestConfig.Parsing() {
            public Duration timeout() {
                return timeout;
            }

            public long maxTextChars() {
                return maxChars;
            }

            public int workers() {
                return 2;
            }

            public int maxAbandoned() {
                return 4;
            }
        };
    }

    private final DocumentParser parser = new DocumentParser(config(Duration.ofSeconds(60), 20_000_000));

    private Path file(String name, byte[] bytes) throws Exception {
        return Files.write(dir.resolve(name), bytes);
    }

    private static String text(ParsedDocument doc) {
        return doc.blocks().stream().map(TextBlock::text).collect(Collectors.joining("\n"));
    }

    @Test
    void pdfKeepsItsPagesAndFrenchAccents() throws Exception {
        Path pdf = file("rapport.pdf", Fixtures.pdf(List.of("Procédure de remboursement des frais.",
                "Les notes dépassant 1 500 € sont validées par le directeur.", "Fin du rapport."), null));
        ParsedDocument doc = parser.parse(pdf, "rapport.pdf");
        assertEquals("application/pdf", doc.contentType());
        assertEquals(3, doc.pages());
        TextBlock second = doc.blocks().stream().filter(b -> b.text().contains("directeur")).findFirst().orElseThrow();
        assertEquals(2, second.page());
        assertTrue(text(doc).contains("Procédure de remboursement des frais."), text(doc));
    }

    @Test
    void filesAttachedToAPdfAreNotParsedIntoIt() throws Exception {
        byte[] bytes;
        try (org.apache.pdfbox.pdmodel.PDDocument doc = org.apache.pdfbox.Loader.loadPDF(Fixtures.pdf(List.of("Rapport principal."), null));
             java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream()) {
            var file = new org.apache.pdfbox.pdmodel.common.filespecification.PDEmbeddedFile(doc,
                    new java.io.ByteArrayInputStream("Annexe jointe au rapport.".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            file.setSubtype("text/plain");
            var spec = new org.apache.pdfbox.pdmodel.common.filespecification.PDComplexFileSpecification();
            spec.setFile("annexe.txt");
            spec.setEmbeddedFile(file);
            var tree = new org.apache.pdfbox.pdmodel.PDEmbeddedFilesNameTreeNode();
            tree.setNames(java.util.Map.of("annexe.txt", spec));
            var names = new org.apache.pdfbox.pdmodel.PDDocumentNameDictionary(doc.getDocumentCatalog());
            names.setEmbeddedFiles(tree);
            doc.getDocumentCatalog().setNames(names);
            doc.save(out);
            bytes = out.toByteArray();
        }
        ParsedDocument parsed = parser.parse(file("rapport-annexe.pdf", bytes), "rapport-annexe.pdf");
        assertTrue(text(parsed).contains("Rapport principal."), text(parsed));
        assertFalse(text(parsed).contains("Annexe jointe"), "a file attached to the PDF was parsed into it: " + text(parsed));
    }

    @Test
    void pdfSectionsComeFromItsBookmarks() throws Exception {
        Path pdf = file("manuel.pdf", Fixtures.pdf(List.of("Introduction au manuel.", "Suite de l'introduction.",
                "Installer le poste.", "Configurer le réseau."), java.util.Map.of(1, "Introduction", 3, "Installation"), null));
        ParsedDocument doc = parser.parse(pdf, "manuel.pdf");
        assertEquals(List.of("Introduction", "Introduction", "Installation", "Installation"),
                doc.blocks().stream().map(TextBlock::section).toList());
        assertEquals(List.of(1, 2, 3, 4), doc.blocks().stream().map(TextBlock::page).toList());
    }

    @Test
    void wordDocumentsKeepTheirHeadingsAsSections() throws Exception {
        Path docx = file("guide.docx", Fixtures.docx(List.of("# Congés", "Les congés se posent dans l'outil RH.",
                "# Notes de frais", "Joindre les justificatifs originaux.")));
        ParsedDocument doc = parser.parse(docx, "guide.docx");
        assertEquals("application/vnd.openxmlformats-officedocument.wordprocessingml.document", doc.contentType());
        TextBlock receipts = doc.blocks().stream().filter(b -> b.text().startsWith("Joindre")).findFirst().orElseThrow();
        assertEquals("Notes de frais", receipts.section());
        TextBlock leave = doc.blocks().stream().filter(b -> b.text().startsWith("Les congés")).findFirst().orElseThrow();
        assertEquals("Congés", leave.section());
    }

    @Test
    void presentationsHaveOnePagePerSlide() throws Exception {
        ParsedDocument doc = parser.parse(file("deck.pptx", Fixtures.pptx(List.of("Stratégie 2027", "Budget prévisionnel",
                "Questions ?"))), "deck.pptx");
        assertEquals("application/vnd.openxmlformats-officedocument.presentationml.presentation", doc.contentType());
        assertEquals(3, doc.pages());
        assertEquals(2, doc.blocks().stream().filter(b -> b.text().contains("Budget")).findFirst().orElseThrow().page());
    }

    @Test
    void spreadsheetsHaveOneSectionPerSheet() throws Exception {
        ParsedDocument doc = parser.parse(file("comptes.xlsx", Fixtures.xlsx(new java.util.LinkedHashMap<>(java.util.Map.of(
                "Recettes", List.of(List.of("Mois", "Montant"), List.of("janvier", "1200")))))), "comptes.xlsx");
        assertEquals("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", doc.contentType());
        TextBlock row = doc.blocks().stream().filter(b -> b.text().contains("janvier")).findFirst().orElseThrow();
        assertEquals("Recettes", row.section());
        assertTrue(row.text().contains("1200"), row.text());
    }

    @Test
    void openDocumentTextKeepsItsHeadings() throws Exception {
        ParsedDocument doc = parser.parse(file("compte-rendu.odt", Fixtures.odt(List.of("# Ordre du jour",
                "Point sur la sécurité & les accès.", "# Décisions", "Le comité approuve le budget."))), "compte-rendu.odt");
        assertEquals("application/vnd.oasis.opendocument.text", doc.contentType());
        TextBlock decision = doc.blocks().stream().filter(b -> b.text().startsWith("Le comité")).findFirst().orElseThrow();
        assertEquals("Décisions", decision.section());
        assertTrue(text(doc).contains("Point sur la sécurité & les accès."), text(doc));
    }

    @Test
    void htmlHeadingsAndParagraphs() throws Exception {
        Path html = file("page.html", """
                <html><head><title>Intranet</title></head><body>
                <h1>Sécurité</h1><p>Verrouillez votre poste.</p>
                <h2>Mots de passe</h2><p>Douze caractères au moins.</p><script>alert('x')</script>
                </body></html>""".getBytes(StandardCharsets.UTF_8));
        ParsedDocument doc = parser.parse(html, "page.html");
        assertEquals("text/html", doc.contentType());
        TextBlock rule = doc.blocks().stream().filter(b -> b.text().startsWith("Douze")).findFirst().orElseThrow();
        assertEquals("Mots de passe", rule.section());
        assertTrue(!text(doc).contains("alert"), "scripts are not text");
    }

    @Test
    void markdownHeadingsBecomeSections() throws Exception {
        Path md = file("README.md", "# Installation\n\nLancer le script.\nPuis redémarrer.\n\n## Dépannage\n\nVoir les journaux.\n"
                .getBytes(StandardCharsets.UTF_8));
        ParsedDocument doc = parser.parse(md, "README.md");
        assertTrue(SupportedTypes.markdown(doc.contentType()), doc.contentType());
        assertEquals(List.of("Installation", "Lancer le script. Puis redémarrer.", "Dépannage", "Voir les journaux."),
                doc.blocks().stream().map(TextBlock::text).toList());
        assertEquals("Dépannage", doc.blocks().get(3).section());
        assertNull(doc.pages());
    }

    @Test
    void plainTextInUtf8AndLatin1() throws Exception {
        String french = "Le comité d'entreprise a validé la procédure.\n\nÇa commence en février à l'hôtel.";
        for (Charset charset : List.of(StandardCharsets.UTF_8, StandardCharsets.ISO_8859_1)) {
            ParsedDocument doc = parser.parse(file("notes-" + charset.name() + ".txt", french.getBytes(charset)), "notes.txt");
            assertEquals("text/plain", doc.contentType());
            assertEquals(List.of("Le comité d'entreprise a validé la procédure.", "Ça commence en février à l'hôtel."),
                    doc.blocks().stream().map(TextBlock::text).toList(), charset.name());
        }
    }

    @Test
    void failuresSayWhatIsWrong() throws Exception {
        assertEquals("PDF is password-protected", assertThrows(ParseFailure.class, () -> parser.parse(
                file("secret.pdf", Fixtures.pdf(List.of("Confidentiel"), "motdepasse")), "secret.pdf")).getMessage());
        assertTrue(assertThrows(ParseFailure.class, () -> parser.parse(file("broken.pdf",
                "%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage".getBytes(StandardCharsets.US_ASCII)), "broken.pdf"))
                .getMessage().startsWith("the file is not a readable PDF"));
        byte[] exe = new byte[512];
        exe[0] = 'M';
        exe[1] = 'Z';
        exe[60] = (byte) 0x80;
        System.arraycopy("PE\0\0".getBytes(StandardCharsets.ISO_8859_1), 0, exe, 0x80, 4);
        String unsupported = assertThrows(ParseFailure.class, () -> parser.parse(file("rapport.pdf", exe), "rapport.pdf")).getMessage();
        assertTrue(unsupported.startsWith("unsupported type application/x-"), "the bytes decide, not the name: " + unsupported);
        String bomb = assertThrows(ParseFailure.class, () -> parser.parse(file("bomb.docx", Fixtures.zipBombDocx()), "bomb.docx"))
                .getMessage();
        assertTrue(bomb.contains("zip bomb"), bomb);
    }

    @Test
    void limitsOnTimeAndText() throws Exception {
        Path pdf = file("big.pdf", Fixtures.pdf(List.of("Une page.", "Une autre.", "Encore une."), null));
        DocumentParser hasty = new DocumentParser(config(Duration.ofMillis(1), 20_000_000));
        assertEquals("parsing exceeded 1 ms", assertThrows(ParseFailure.class, () -> hasty.parse(pdf, "big.pdf")).getMessage());
        DocumentParser terse = new DocumentParser(config(Duration.ofSeconds(60), 10));
        assertEquals("the document's text exceeds 10 characters",
                assertThrows(ParseFailure.class, () -> terse.parse(pdf, "big.pdf")).getMessage());
    }
}
