package fr.osfria.embed.index;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

/**
 * Keyword search over confidential text without readable words on disk: each analysed term (French and English
 * stems) is replaced by a keyed hash, and a query's terms are hashed with the same key. Whoever reads the index
 * sees only hashes; term frequencies still leak, as with any blind index.
 */
public final class BlindIndex {

    private final SecretKey key;
    private final Analyzer french = new FrenchAnalyzer();
    private final Analyzer english = new EnglishAnalyzer();

    public BlindIndex(SecretKey key) {
        this.key = key;
    }

    /** The hashed terms of {@code text}, space separated, repeated as often as the words are (BM25 counts them). */
    public String terms(String text) {
        return hashedTerms(text, false);
    }

    /** The same for a query, each distinct term once. */
    public String queryTerms(String text) {
        return hashedTerms(text, true);
    }

    private String hashedTerms(String text, boolean distinct) {
        StringBuilder out = new StringBuilder();
        Mac mac = mac();
        analyse(french, "f:", text, mac, out, distinct);
        analyse(english, "e:", text, mac, out, distinct);
        return out.toString();
    }

    private static void analyse(Analyzer analyzer, String tag, String text, Mac mac, StringBuilder out, boolean distinct) {
        Set<String> seen = new LinkedHashSet<>();
        try (TokenStream stream = analyzer.tokenStream("blind", text)) {
            CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
            stream.reset();
            while (stream.incrementToken()) {
                String t = term.toString();
                if (distinct && !seen.add(t)) {
                    continue;
                }
                byte[] h = mac.doFinal((tag + t).getBytes(StandardCharsets.UTF_8));
                out.append(out.isEmpty() ? "" : " ").append(HexFormat.of().formatHex(h, 0, 12));
            }
            stream.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Mac mac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
