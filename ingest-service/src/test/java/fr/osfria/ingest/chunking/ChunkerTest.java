package fr.osfria.ingest.chunking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Properties of the chunker over many generated documents, plus a few cases a person would check by eye. */
class ChunkerTest {

    private static final String LETTERS = "abcdefghijklmnopqrstuvwxyzéèêàçôûîœ";

    @Test
    void propertiesHoldOnGeneratedDocuments() {
        for (long seed = 1; seed <= 400; seed++) {
            Random random = new Random(seed);
            int max = 16 + random.nextInt(500);
            int overlap = random.nextInt(max / 2 + 1);
            List<TextBlock> blocks = document(random);
            List<Chunk> chunks = new Chunker(max, overlap).chunk(blocks);
            try {
                checkProperties(blocks, chunks, max, overlap);
            } catch (AssertionError e) {
                throw new AssertionError("seed " + seed + ", max " + max + ", overlap " + overlap + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * No chunk over the limit; every source word in order, each once apart from the overlap, which is a true tail of
     * the previous chunk, within the overlap budget and never across a section.
     */
    private static void checkProperties(List<TextBlock> blocks, List<Chunk> chunks, int max, int overlap) {
        List<String> words = new ArrayList<>();
        List<String> sections = new ArrayList<>();
        for (TextBlock b : blocks) {
            for (String w : b.text().strip().split("\\s+")) {
                if (!w.isEmpty()) {
                    words.add(w);
                    sections.add(b.section());
                }
            }
        }
        int p = 0;
        for (Chunk chunk : chunks) {
            assertTrue(chunk.tokens() <= max, "chunk " + chunk.ordinal() + " has " + chunk.tokens() + " tokens");
            assertEquals(TokenEstimator.count(chunk.text()), chunk.tokens());
            List<String> cw = Arrays.asList(chunk.text().split("\\s+"));
            int j = Math.min(cw.size() - 1, p);
            while (j > 0 && !cw.subList(0, j).equals(words.subList(p - j, p))) {
                j--;
            }
            int overlapTokens = TokenEstimator.count(String.join(" ", cw.subList(0, j)));
            assertTrue(overlapTokens <= overlap, "overlap of " + overlapTokens + " tokens");
            if (j > 0) {
                assertEquals(sections.get(p - 1), chunk.section(), "overlap crossed a section");
            }
            List<String> fresh = cw.subList(j, cw.size());
            assertEquals(words.subList(p, Math.min(words.size(), p + fresh.size())), fresh, "words lost or reordered at " + p);
            for (int k = p; k < p + fresh.size(); k++) {
                assertTrue(Objects.equals(sections.get(k), chunk.section()), "a chunk mixes sections");
            }
            p += fresh.size();
        }
        assertEquals(words.size(), p, "words missing at the end");
    }

    private static List<TextBlock> document(Random random) {
        List<TextBlock> blocks = new ArrayList<>();
        int page = 1;
        String section = random.nextBoolean() ? null : "Introduction";
        for (int b = random.nextInt(40); b >= 0; b--) {
            if (random.nextInt(8) == 0) {
                section = "Section " + random.nextInt(1000);
            }
            if (random.nextInt(5) == 0) {
                page++;
            }
            StringBuilder paragraph = new StringBuilder();
            for (int s = random.nextInt(6); s >= 0; s--) {
                int length = random.nextInt(20) == 0 ? 200 + random.nextInt(600) : 3 + random.nextInt(30);
                for (int w = 0; w < length; w++) {
                    paragraph.append(w == 0 ? "" : random.nextInt(15) == 0 ? ",  " : " ").append(word(random));
                }
                paragraph.append(random.nextInt(10) == 0 ? " ?" : ". ");
            }
            blocks.add(new TextBlock(page, section, paragraph.toString()));
        }
        return blocks;
    }

    private static String word(Random random) {
        int length = 1 + random.nextInt(random.nextInt(10) == 0 ? 25 : 10);
        StringBuilder w = new StringBuilder();
        for (int i = 0; i < length; i++) {
            w.append(LETTERS.charAt(random.nextInt(LETTERS.length())));
        }
        return random.nextInt(6) == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w.toString();
    }

    @Test
    void keepsPagesAndSectionsAndBreaksBetweenSentences() {
        List<TextBlock> blocks = List.of(
                new TextBlock(1, "Procédures financières", "La procédure de remboursement des frais est simple. "
                        + "Chaque salarié remplit le formulaire. M. Dupont le valide sous 5 jours, etc. puis la comptabilité paie."),
                new TextBlock(2, "Procédures financières", "Les notes de frais dépassant 1 500,00 € demandent l'accord du directeur."),
                new TextBlock(3, "Ressources humaines", "Les congés se posent dans l'outil RH."));
        List<Chunk> chunks = new Chunker(30, 8).chunk(blocks);
        assertEquals("La procédure de remboursement des frais est simple.", chunks.get(0).text().split("(?<=\\.) ")[0]);
        for (Chunk c : chunks) {
            assertTrue(c.text().matches("(?s).*[.!?]$"), "a chunk ends mid-sentence: " + c.text());
        }
        Chunk last = chunks.get(chunks.size() - 1);
        assertEquals("Ressources humaines", last.section());
        assertEquals(3, last.page());
        assertEquals("Les congés se posent dans l'outil RH.", last.text(), "no overlap across sections");
        assertEquals(1, chunks.get(0).page());
    }

    @Test
    void splitsSentencesInFrenchAndEnglishWithoutBreakingAbbreviationsOrNumbers() {
        assertEquals(List.of("M. Martin arrive à 9 h.", "Il paie 3.50 € (cf. art. 12).", "Fin ?", "Oui !"),
                SentenceSplitter.split("M. Martin arrive à 9 h. Il paie 3.50 € (cf. art. 12). Fin ? Oui !"));
        assertEquals(List.of("Dr. Smith met J. R. Doe, e.g. at noon.", "See example.com for more…", "Done."),
                SentenceSplitter.split("Dr. Smith met J. R. Doe, e.g. at noon. See example.com for more… Done."));
        assertEquals(List.of("« C'est fini. »", "Oui."), SentenceSplitter.split("« C'est fini. » Oui."));
    }

    @Test
    void aBlobWithNoWordBoundaryIsCutToFit() {
        String blob = "QmFzZTY0".repeat(500);
        List<Chunk> chunks = new Chunker(64, 8).chunk(List.of(new TextBlock(1, null, "Avant. " + blob + " Après.")));
        StringBuilder joined = new StringBuilder();
        for (Chunk c : chunks) {
            assertTrue(c.tokens() <= 64, c.tokens() + " tokens");
            joined.append(c.text().replace(" ", ""));
        }
        assertTrue(joined.toString().contains(blob), "the blob is all there, in order");
    }

    /**
     * A document may hold 20 million characters of text; as one unbroken run (a minified file, a base64 dump) they
     * took minutes to cut on one thread (each part's count was taken again for every character added to it), while
     * the uploads behind it waited.
     */
    @Test
    void theLongestTextADocumentMayHoldAsOneBlobIsCutAsFastAsItIsRead() {
        String blob = "QmFz-ZTY0".repeat(20_000_000 / 9);
        List<Chunk> chunks = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> new Chunker(400, 50).chunk(List.of(new TextBlock(1, null, blob))));
        assertTrue(chunks.stream().allMatch(c -> c.tokens() <= 400), "parts cut to fit");
        assertTrue(chunks.subList(0, chunks.size() - 1).stream().allMatch(c -> c.tokens() >= 398), "and no smaller");
        assertEquals(blob.length(), chunks.stream().mapToInt(c -> c.text().length()).sum(), "every character once");
        assertEquals(TokenEstimator.count(blob), chunks.stream().mapToInt(Chunk::tokens).sum());
    }

    /**
     * A run of sentence marks with no white space after it (dot leaders, a rule of full stops, a damaged text layer)
     * was read again from each of its marks: 160,000 characters took 20 s on one thread, the 20 million a document
     * may hold would have held the uploads behind it for days.
     */
    @Test
    void aRunOfFullStopsAsLongAsADocumentMayHoldIsSplitAsFastAsItIsRead() {
        String text = "Sommaire " + ".?!…".repeat(20_000_000 / 4) + "5 fin.";
        List<Chunk> chunks = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> new Chunker(400, 50).chunk(List.of(new TextBlock(1, null, text))));
        assertTrue(chunks.stream().allMatch(c -> c.tokens() <= 400), "parts cut to fit");
        assertEquals(text.replace(" ", ""), String.join("", chunks.stream().map(c -> c.text().replace(" ", "")).toList()),
                "every mark once, in order");
    }

    @Test
    void emptyInputMakesNoChunk() {
        assertEquals(List.of(), new Chunker(400, 50).chunk(List.of()));
        assertEquals(List.of(), new Chunker(400, 50).chunk(List.of(new TextBlock(1, null, "  \n\t "))));
    }
}
