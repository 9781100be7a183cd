package fr.osfria.ingest.chunking;

/**
 * Estimates how many tokens a WordPiece/BPE tokenizer makes of a text, erring high: a word is one token plus one
 * per four further characters, and each punctuation mark is a token. An English vocabulary splits French words
 * (accents, long compounds) into several pieces; over-counting keeps chunks under the model's input limit
 * whichever model a site plugs in.
 */
public final class TokenEstimator {

    public static int count(String text) {
        Running count = new Running();
        for (int i = 0; i < text.length(); i++) {
            count.add(text.charAt(i));
        }
        return count.tokens;
    }

    /** {@link #count} of a text growing one character at a time, without recounting it. */
    static final class Running {
        private int tokens;
        private int wordLength;

        /** The count once {@code c} is added. */
        int with(char c) {
            if (Character.isLetterOrDigit(c)) {
                return tokens + wordTokens(wordLength + 1) - wordTokens(wordLength);
            }
            return tokens + (Character.isWhitespace(c) ? 0 : 1);
        }

        void add(char c) {
            tokens = with(c);
            wordLength = Character.isLetterOrDigit(c) ? wordLength + 1 : 0;
        }
    }

    private static int wordTokens(int length) {
        return length == 0 ? 0 : 1 + (length - 1) / 4;
    }

    private TokenEstimator() {
    }
}
