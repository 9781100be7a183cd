package fr.osfria.ingest.chunking;

/**
 * Estimates how many tokens a WordPiece/BPE tokenizer makes of a text, erring high: a word is one token plus one
 * per four further characters, and each punctuation mark is a token. An English vocabulary splits French words
 * (accents, long compounds) into several pieces; over-counting keeps chunks under the model's input limit
 * whichever model a site plugs in.
 */
public final class TokenEstimator {

    /** 1 for a letter or digit, else 0, for the Latin-1 characters: {@link #isWordChar}. */
    private static final byte[] WORD_CHARS = new byte[256];
    /** 1 for a mark (neither a letter, a digit nor white space), else 0: {@link #isMark}. */
    private static final byte[] MARKS = new byte[256];

    static {
        for (char c = 0; c < 256; c++) {
            WORD_CHARS[c] = (byte) wordChar(c);
            MARKS[c] = (byte) mark(c);
        }
    }

    public static int count(String text) {
        Running count = new Running();
        for (int i = 0; i < text.length(); i++) {
            count.add(text.charAt(i));
        }
        return count.tokens;
    }

    /**
     * {@link #count} of a text growing one character at a time, without recounting it. Every character of every
     * page passes here, so it is arithmetic without branches: a branch on the kind of character was mispredicted
     * at about every word's ends and cost more than the rest of the count.
     */
    static final class Running {
        private int tokens;
        private int wordLength;

        /** The count once {@code c} is added. */
        int with(char c) {
            return tokens + added(c);
        }

        void add(char c) {
            tokens += added(c);
            wordLength = (wordLength + 1) * isWordChar(c); // 0 after anything else
        }

        /** A word's 1st, 5th, 9th… character starts a token, a mark is one, white space none. */
        private int added(char c) {
            return isMark(c) + (isWordChar(c) & startsToken(wordLength));
        }

        /** 1 when a word's next character starts a token (after 0, 4, 8… characters), else 0. */
        private static int startsToken(int wordLength) {
            return ((wordLength & 3) - 1) >>> 31; // the sign bit of -1, which only a multiple of 4 leaves
        }
    }

    private static int isWordChar(char c) {
        return c < 256 ? WORD_CHARS[c] : wordChar(c);
    }

    private static int isMark(char c) {
        return c < 256 ? MARKS[c] : mark(c);
    }

    private static int wordChar(char c) {
        return Character.isLetterOrDigit(c) ? 1 : 0;
    }

    private static int mark(char c) {
        return Character.isLetterOrDigit(c) || Character.isWhitespace(c) ? 0 : 1;
    }

    private TokenEstimator() {
    }
}
