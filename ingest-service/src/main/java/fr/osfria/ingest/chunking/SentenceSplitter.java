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

    public static List<String> split(String paragraph) {
        List<String> sentences = new ArrayList<>();
        int start = 0;
        int n = paragraph.length();
        for (int i = 0; i < n; i++) {
            char c = paragraph.charAt(i);
            if (c != '.' && c != '!' && c != '?' && c != '…') {
                continue;
            }
            int end = i + 1;
            while (end < n && ".!?…»\")]’'".indexOf(paragraph.charAt(end)) >= 0) {
                end++;
            }
            int afterSpace = end;
            while (afterSpace < n && (paragraph.charAt(afterSpace) == ' ' || paragraph.charAt(afterSpace) == '\u00A0'
                    || paragraph.charAt(afterSpace) == '\u202F')) {
                afterSpace++;
            }
            if (afterSpace < n && "»”".indexOf(paragraph.charAt(afterSpace)) >= 0) {
                end = afterSpace + 1; // French spacing: « Fini. »
            }
            if (end < n && !Character.isWhitespace(paragraph.charAt(end))) {
                continue; // 3.14, example.com, «Oui.»suite
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

    private static boolean isAbbreviation(String text, int from, int dot) {
        int wordStart = dot;
        while (wordStart > from && !Character.isWhitespace(text.charAt(wordStart - 1))
                && text.charAt(wordStart - 1) != '(') {
            wordStart--;
        }
        String word = text.substring(wordStart, dot).toLowerCase(Locale.ROOT);
        if (dot - wordStart == 1 && Character.isUpperCase(text.charAt(wordStart))) {
            return true; // an initial: J. Dupont
        }
        return ABBREVIATIONS.contains(word);
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
