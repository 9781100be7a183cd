package fr.osfria.ingest.bench;

import fr.osfria.ingest.parsing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The ingest benchmarks' documents: PDFs whose pages hold 40 lines of French office words, a third of them ending
 * with a full stop. The same seed gives the same files, so benchmarks measured apart read the same text.
 */
public final class BenchmarkPdfs {

    private static final String[] WORDS = ("le la les un une des procédure remboursement frais salarié directeur validation "
            + "comptabilité budget réunion sécurité accès réseau poste formation congés contrat avenant article clause "
            + "société client fournisseur facture paiement délai mois année rapport annexe tableau résultat").split(" ");

    private BenchmarkPdfs() {
    }

    /** {@code documents} PDFs of {@code pages} pages each, written in {@code dir} as {@code doc<n>.pdf}. */
    public static List<Path> write(Path dir, int documents, int pages, long seed) throws IOException {
        Random random = new Random(seed);
        List<Path> files = new ArrayList<>();
        for (int d = 0; d < documents; d++) {
            List<String> text = new ArrayList<>();
            for (int p = 0; p < pages; p++) {
                text.add(page(random));
            }
            files.add(Files.write(dir.resolve("doc" + d + ".pdf"), Fixtures.pdf(text, null)));
        }
        return files;
    }

    private static String page(Random random) {
        StringBuilder text = new StringBuilder();
        for (int line = 0; line < 40; line++) {
            StringBuilder l = new StringBuilder();
            for (int w = 0; w < 12; w++) {
                l.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
            }
            text.append(line == 0 ? "" : "\n").append(Character.toUpperCase(l.charAt(0))).append(l.substring(1))
                    .append(random.nextInt(3) == 0 ? "." : "");
        }
        return text.toString();
    }
}
