package fr.osfria.ingest.chunking;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Splits a paragraph into sentences, in French or English: after {@code . ! ? …} (and closing quotes or
 * brackets) followed by white space, unless the word before the full stop is a known abbreviation or an initial.
 */
public final class SentenceSplitter {

    private static final Set<String> ABBREVIATIONS = Set.of(
            // French
            "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "p", "pp", "art", "al", "chap", "cf", "env",
            "etc", "ex", "fig", "n", "no", "vol", "éd", "av", "bd", "tél", "hab", "min", "max", "janv", "févr", "oct",
            "nov", "déc", "sept", "vs",
            // English
            "mr", "mrs", "ms", "prof", "inc", "ltd", "co", "corp", "jr", "sr", "e.g", "i.e", "approx", "dept",
            "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "dec", "u.s");
    private static final int LONGEST = ABBREVIATIONS.stream().mapToInt(String::length).max().orElseThrow();

    public static List<String> split(String paragraph) {
        List<String> sentences = new ArrayList<>();
        int start = 0;
        int n = paragraph.length();
        Marks marks = new Marks(paragraph);
        for (int i = marks.next(0); i < n; i = marks.next(i + 1)) {
            char c = paragraph.charAt(i);
            int end = i + 1;
            while (end < n && ".!?…»\")]’'".indexOf(paragraph.charAt(end)) >= 0) {
                end++;
            }
            int closed = end;
            int afterSpace = end;
            while (afterSpace < n && (paragraph.charAt(afterSpace) == ' ' || paragraph.charAt(afterSpace) == '\u00A0'
                    || paragraph.charAt(afterSpace) == '\u202F')) {
                afterSpace++;
            }
            if (afterSpace < n && "»”".indexOf(paragraph.charAt(afterSpace)) >= 0) {
                end = afterSpace + 1; // French spacing: « Fini. »
            }
            if (end < n && !Character.isWhitespace(paragraph.charAt(end))) {
                // 3.14, example.com, «Oui.»suite. The marks after this one up to closed share its end, so no sentence
                // ends at them either: skipped, as each one read the run again (a run of 160,000 took 20 s)
                i = closed - 1;
                continue;
            }
            if (c == '.' && isAbbreviation(paragraph, start, i)) {
                continue;
            }
            add(sentences, paragraph.substring(start, end));
            start = end;
            i = end - 1;
        }
        add(sentences, paragraph.substring(start));
        return sentences;
    }

    /**
     * Where the next full stop, {@code !}, {@code ?} or {@code …} is. Every character of every page is searched:
     * {@link String#indexOf(int, int)} scans many characters a step, where comparing each with the four was most of
     * the splitter's time. Each mark's next position is kept until passed, so a paragraph is read once per
     * mark, however many sentences it holds.
     */
    private static final class Marks {
        private static final char[] ENDS = {'.', '!', '?', '…'};

        private final String text;
        private final int[] next = {-1, -1, -1, -1};

        Marks(String text) {
            this.text = text;
        }

        /** The first mark at or after {@code from}, or the text's length if none. */
        int next(int from) {
            int first = text.length();
            for (int m = 0; m < ENDS.length; m++) {
                if (next[m] < from) {
                    int at = text.indexOf(ENDS[m], from);
                    next[m] = at < 0 ? text.length() : at;
                }
                first = Math.min(first, next[m]);
            }
            return first;
        }
    }

    private static boolean isAbbreviation(String text, int from, int dot) {
        int wordStart = dot;
        while (wordStart > from && !Character.isWhitespace(text.charAt(wordStart - 1))
                && text.charAt(wordStart - 1) != '(') {
            wordStart--;
        }
        if (dot - wordStart == 1 && Character.isUpperCase(text.charAt(wordStart))) {
            return true; // an initial: J. Dupont
        }
        // most words before a full stop are longer than any abbreviation (lower case is never shorter): no copy then
        return dot - wordStart <= LONGEST && ABBREVIATIONS.contains(text.substring(wordStart, dot).toLowerCase(Locale.ROOT));
    }

    private static void add(List<String> sentences, String sentence) {
        String trimmed = sentence.strip();
        if (!trimmed.isEmpty()) {
            sentences.add(trimmed);
        }
    }

    private SentenceSplitter() {
    }
}
