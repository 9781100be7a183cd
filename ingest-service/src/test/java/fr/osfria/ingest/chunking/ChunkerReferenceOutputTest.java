package fr.osfria.ingest.chunking;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The chunks of a varied corpus (French and English prose, abbreviations, initials, quotes, odd white space, numbers,
 * over-long sentences, blobs, sections and pages) are exactly those recorded in {@code chunker-reference.txt}: same
 * texts, boundaries, token counts, pages and sections. The properties in {@link ChunkerTest} leave the boundaries
 * free; this pins them, so that making the chunker faster cannot change what the index receives.
 * <p>
 * A deliberate change of the chunking rules records the file again:
 * {@code -Dchunker.reference.record=src/test/resources/fr/osfria/ingest/chunking/chunker-reference.txt}.
 */
class ChunkerReferenceOutputTest {

    private static final int DOCUMENTS = 400;

    @Test
    void chunksAreThoseRecorded() throws Exception {
        List<String> actual = new ArrayList<>();
        for (int seed = 1; seed <= DOCUMENTS; seed++) {
            Random random = new Random(seed);
            int max = 16 + random.nextInt(random.nextBoolean() ? 100 : 600);
            int overlap = random.nextInt(max / 2 + 1);
            List<Chunk> chunks = new Chunker(max, overlap).chunk(document(random));
            actual.add(seed + " " + max + " " + overlap + " " + chunks.size() + " " + digest(chunks));
        }
        String record = System.getProperty("chunker.reference.record");
        if (record != null) {
            Files.write(Path.of(record), actual);
        }
        List<String> expected = recorded();
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            // seed, limits, number of chunks, then a digest of every chunk's fields
            assertEquals(expected.get(i), actual.get(i), "document of seed " + (i + 1));
        }
    }

    private static List<String> recorded() throws IOException {
        try (InputStream in = ChunkerReferenceOutputTest.class.getResourceAsStream("chunker-reference.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    private static String digest(List<Chunk> chunks) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Chunk c : chunks) {
            String fields = c.ordinal() + "\u0000" + c.page() + "\u0000" + c.section() + "\u0000" + c.tokens() + "\u0000"
                    + c.text() + "\u0001";
            sha.update(fields.getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 12);
    }

    private static final String[] PROSE = ("le la les un une des procédure remboursement frais salarié directeur "
            + "validation comptabilité budget réunion sécurité accès réseau poste formation congés contrat avenant article "
            + "clause société client fournisseur facture paiement délai mois année rapport annexe tableau résultat the of "
            + "and report payment within days l'accord aujourd'hui c'est qu’il œuvre Élise ÉTAT naïve coût").split(" ");
    /** Words a full stop may follow without ending the sentence, and some it does end after. */
    private static final String[] TRICKY = {"M.", "Mme.", "Dr.", "cf.", "art.", "etc.", "e.g.", "i.e.", "U.S.", "J.",
            "R.", "p.", "No.", "vs.", "déc.", "Tél.", "(cf.", "3.14", "1 500,00 €", "example.com", "v2.0.1", "x.",
            "A.B.C.", "10h30.", "«Oui.»suite", "(voir", "annexe)", "http://exemple.fr/a.b?c=d", "—", "-", "%", "n°",
            "12", "2026", "l’État", "«", "»", "“quoted”", "it's", "...", "?!", "e-mail", "Ⅳ", "𝔸𝔹", "😀", "中文", "approx.",
            "Prof.", "janv.", "Mmes.", "Inc.", "sept.", "Chap.", "bd.", "Fig.", "dept.", "U.S.A.", "i.e.,", "İnc.", "aprox."};
    private static final String[] ENDS = {". ", ". ", ". ", "! ", "? ", " ?", " !", "… ", "... ", ".» ", ". » ",
            ".\u00A0» ", "?” ", ".) ", ".’ ", ".\" ", "!? ", ".", " ", ".\n", ".\t", ".\u202F» ", "; "};
    private static final String[] SPACES = {" ", " ", " ", " ", " ", " ", " ", " ", "  ", "\t", "\n", "\u00A0",
            "\u202F", "\u2003", " \u00A0 ", "\r\n", "\u001C", "\u2028", ", ", ": ", " - "};

    private static List<TextBlock> document(Random random) {
        List<TextBlock> blocks = new ArrayList<>();
        Integer page = random.nextInt(4) == 0 ? null : 1;
        String section = random.nextBoolean() ? null : "Introduction";
        for (int b = random.nextInt(30); b >= 0; b--) {
            if (random.nextInt(6) == 0) {
                section = random.nextInt(5) == 0 ? null : "Section " + random.nextInt(20);
            }
            if (page != null && random.nextInt(4) == 0) {
                page++;
            }
            blocks.add(new TextBlock(page, section, paragraph(random)));
        }
        return blocks;
    }

    private static String paragraph(Random random) {
        StringBuilder text = new StringBuilder();
        switch (random.nextInt(12)) {
            case 0 -> text.append(' ');
            case 1 -> text.append("  \u00A0");
            case 2 -> {
                return random.nextBoolean() ? "" : " \t\n ";
            }
            default -> { }
        }
        boolean clean = random.nextInt(3) == 0; // as the parser hands text over: single spaces only
        for (int s = random.nextInt(8); s >= 0; s--) {
            int length = switch (random.nextInt(25)) {
                case 0 -> 150 + random.nextInt(900); // longer than a chunk
                case 1 -> 1;
                default -> 2 + random.nextInt(35);
            };
            for (int w = 0; w < length; w++) {
                if (w > 0) {
                    text.append(clean || random.nextInt(6) != 0 ? " " : SPACES[random.nextInt(SPACES.length)]);
                }
                text.append(word(random));
            }
            text.append(clean ? ". " : ENDS[random.nextInt(ENDS.length)]);
        }
        if (!clean && random.nextInt(4) == 0) {
            text.append(SPACES[random.nextInt(SPACES.length)]);
        }
        return clean ? text.toString().strip() : text.toString();
    }

    private static String word(Random random) {
        int kind = random.nextInt(40);
        if (kind < 4) {
            return TRICKY[random.nextInt(TRICKY.length)];
        }
        if (kind == 4 && random.nextInt(8) == 0) {
            // a blob: base64, a hash, a URL with no end
            String unit = random.nextBoolean() ? "QmFzZTY0" : "a1/b2-c3.";
            return unit.repeat(20 + random.nextInt(600));
        }
        if (kind == 5) {
            return Integer.toString(random.nextInt(100_000));
        }
        String w = PROSE[random.nextInt(PROSE.length)];
        if (random.nextInt(5) == 0) {
            w = w.repeat(1 + random.nextInt(4)); // long compounds
        }
        return random.nextInt(6) == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w;
    }
}
