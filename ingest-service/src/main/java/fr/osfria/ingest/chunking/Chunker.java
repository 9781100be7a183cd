package fr.osfria.ingest.chunking;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Packs paragraphs into chunks of at most {@code maxTokens}, breaking between sentences (between words only
 * when one sentence is longer than a chunk), starting a new chunk at each new section, and repeating up to
 * {@code overlapTokens} of the end of one chunk at the start of the next within a section.
 */
public final class Chunker {

    /** A sentence, or a run of words of an over-long sentence: the unit chunks are made of. */
    private record Piece(Integer page, String section, String text, int tokens, boolean startsParagraph) {
    }

    private final int maxTokens;
    private final int overlapTokens;

    public Chunker(int maxTokens, int overlapTokens) {
        if (maxTokens < 16) {
            throw new IllegalArgumentException("a chunk holds at least 16 tokens");
        }
        if (overlapTokens < 0 || overlapTokens > maxTokens / 2) {
            throw new IllegalArgumentException("overlap is between 0 and half a chunk");
        }
        this.maxTokens = maxTokens;
        this.overlapTokens = overlapTokens;
    }

    public List<Chunk> chunk(List<TextBlock> blocks) {
        List<Chunk> chunks = new ArrayList<>();
        List<Piece> current = new ArrayList<>();
        int currentTokens = 0;
        int newPieces = 0; // pieces in current that are not overlap
        for (Piece piece : pieces(blocks)) {
            boolean sectionChanged = !current.isEmpty() && !Objects.equals(current.get(0).section(), piece.section());
            if (newPieces > 0 && (sectionChanged || currentTokens + piece.tokens() > maxTokens)) {
                emit(chunks, current, newPieces);
                current = sectionChanged ? new ArrayList<>() : overlap(current);
                currentTokens = 0;
                for (Piece p : current) {
                    currentTokens += p.tokens();
                }
                newPieces = 0;
            }
            while (!current.isEmpty() && currentTokens + piece.tokens() > maxTokens) {
                currentTokens -= current.remove(0).tokens(); // overlap gives way to content
            }
            current.add(piece);
            currentTokens += piece.tokens();
            newPieces++;
        }
        if (newPieces > 0) {
            emit(chunks, current, newPieces);
        }
        return chunks;
    }

    private void emit(List<Chunk> chunks, List<Piece> pieces, int newPieces) {
        Piece first = pieces.get(pieces.size() - newPieces);
        int length = 0;
        for (Piece p : pieces) {
            length += p.text().length() + 2;
        }
        // sized once: grown from the default, the builder copied each chunk's text about twice more
        StringBuilder text = new StringBuilder(length);
        int tokens = 0;
        for (Piece p : pieces) {
            if (!text.isEmpty()) {
                text.append(p.startsParagraph() ? "\n\n" : " ");
            }
            text.append(p.text());
            tokens += p.tokens();
        }
        // the estimate is additive over white space, so the pieces' counts add up to the chunk's
        chunks.add(new Chunk(chunks.size(), first.page(), first.section(), text.toString(), tokens));
    }

    /** The tail of a chunk, whole pieces only, of at most {@code overlapTokens}. */
    private List<Piece> overlap(List<Piece> previous) {
        List<Piece> tail = new ArrayList<>();
        int tokens = 0;
        for (int i = previous.size() - 1; i >= 0; i--) {
            Piece p = previous.get(i);
            if (tokens + p.tokens() > overlapTokens) {
                break;
            }
            tail.add(0, p);
            tokens += p.tokens();
        }
        return tail;
    }

    /** Sentences, with any sentence longer than a chunk split into runs of words (never inside a word). */
    private List<Piece> pieces(List<TextBlock> blocks) {
        int wordRun = overlapTokens > 0 ? overlapTokens : maxTokens;
        List<Piece> pieces = new ArrayList<>();
        for (TextBlock block : blocks) {
            boolean paragraphStart = true;
            for (String sentence : SentenceSplitter.split(normalize(block.text()))) {
                int tokens = TokenEstimator.count(sentence);
                if (tokens <= maxTokens) {
                    pieces.add(new Piece(block.page(), block.section(), sentence, tokens, paragraphStart));
                } else {
                    // runs small enough to serve as overlap too, so a long sentence still overlaps its neighbours
                    for (String run : wordRuns(sentence, wordRun)) {
                        pieces.add(new Piece(block.page(), block.section(), run, TokenEstimator.count(run), paragraphStart));
                        paragraphStart = false;
                    }
                }
                paragraphStart = false;
            }
        }
        return pieces;
    }

    /** Runs of about {@code budget} tokens; a single word over a whole chunk ({@code maxTokens}) is cut. */
    private List<String> wordRuns(String sentence, int budget) {
        List<String> runs = new ArrayList<>();
        StringBuilder run = new StringBuilder();
        int runTokens = 0; // the estimate is additive over white space: the run's count is its words' sum
        for (String word : WORD_BREAK.split(sentence)) {
            int tokens = TokenEstimator.count(word);
            if (tokens > maxTokens) {
                // not a word but a blob (a hash, base64, a URL with no end): cut it, there is no boundary to keep
                if (!run.isEmpty()) {
                    runs.add(run.toString());
                    run.setLength(0);
                    runTokens = 0;
                }
                runs.addAll(cut(word, maxTokens));
                continue;
            }
            if (!run.isEmpty() && runTokens + tokens > budget) {
                runs.add(run.toString());
                run.setLength(0);
                runTokens = 0;
            }
            if (!run.isEmpty()) {
                run.append(' ');
            }
            run.append(word);
            runTokens += tokens;
        }
        if (!run.isEmpty()) {
            runs.add(run.toString());
        }
        return runs;
    }

    /**
     * Parts of at most {@code budget} estimated tokens (at least one character each). The count grows character by
     * character: recounting each longer prefix made a blob of the 20 million characters a document may hold
     * quadratic to cut (minutes on one thread).
     */
    private static List<String> cut(String blob, int budget) {
        List<String> parts = new ArrayList<>();
        int from = 0;
        while (from < blob.length()) {
            int to = from + 1;
            TokenEstimator.Running tokens = new TokenEstimator.Running();
            tokens.add(blob.charAt(from));
            while (to < blob.length() && tokens.with(blob.charAt(to)) <= budget) {
                tokens.add(blob.charAt(to));
                to++;
            }
            parts.add(blob.substring(from, to));
            from = to;
        }
        return parts;
    }

    private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile("[\\s\\u00A0]+");
    private static final java.util.regex.Pattern WORD_BREAK = java.util.regex.Pattern.compile("\\s+");

    /** One space between words; paragraphs are already separate blocks. */
    private static String normalize(String text) {
        // parsers mostly hand over text already spaced this way: skip the regex then
        return isNormal(text) ? text : SPACES.matcher(text).replaceAll(" ").strip();
    }

    /**
     * Single spaces between words and none at either end. Runs on every character of every page, hence searches
     * ({@code contains} scans many characters a step) and, per character, tests that letters and spaces pass
     * without a look-up or a mispredicted branch: no character from ' ' to U+167F is white space but the space.
     */
    private static boolean isNormal(String text) {
        if (text.startsWith(" ") || text.endsWith(" ") || text.contains("  ")) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\u00A0' || (c < ' ' || c >= '\u1680') && Character.isWhitespace(c)) {
                return false;
            }
        }
        return true;
    }
}
