package fr.osfria.ingest.document.service;

/**
 * A caller's text on its way to PostgreSQL (a document's row, the record memory, the audit): refused, naming its
 * field, when it holds what PostgreSQL text cannot (a NUL character: the statement failed, an internal error) or what
 * is no Unicode text at all (a lone UTF-16 surrogate, which a JSON escape of U+D800 alone makes: the database client
 * writes it as '?', so that two different strings were stored as one). The REST upload and a Kafka application's record
 * check their fields here, through {@link Upload#of} and {@link MetadataLimits} where they share them.
 */
public final class StoredText {

    /** @throws InvalidUpload (400) when {@code value} holds a NUL character or a lone surrogate */
    public static void check(String field, String value) {
        String fault = fault(value, false);
        if (fault != null) {
            throw new InvalidUpload(400, field + " holds " + fault);
        }
    }

    /**
     * The same for an identifier, which is compared exactly as sent and written to the logs: no control character
     * either.
     */
    public static void checkIdentifier(String field, String value) {
        String fault = fault(value, true);
        if (fault != null) {
            throw new InvalidUpload(400, field + " holds " + fault);
        }
    }

    /** Whether {@code value} passes {@link #checkIdentifier} (null does). */
    public static boolean isIdentifier(String value) {
        return fault(value, true) == null;
    }

    /** Whether {@code value} could be stored as it is (no NUL character, no lone surrogate). */
    public static boolean storable(String value) {
        return fault(value, false) == null;
    }

    /**
     * {@code value} as a message or the audit trail may quote it: control characters, lone surrogates and the invisible
     * characters that change how text around them reads (bidirectional overrides, zero-width characters, line
     * separators) written as JSON escapes them (backslash, u, four hex digits), never themselves (a message is audited,
     * shown in the console and sent in a Kafka header: a right-to-left override would make a probe read as another).
     */
    public static String printable(String value) {
        if (value == null || value.codePoints().noneMatch(StoredText::unprintable)) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length() + 16);
        value.codePoints().forEach(cp -> {
            if (!unprintable(cp)) {
                out.appendCodePoint(cp);
            } else {
                for (char c : Character.toChars(cp)) { // a pair's two halves (tag characters hide text: U+E0041)
                    out.append(escaped(c));
                }
            }
        });
        return out.toString();
    }

    /** A control character, a lone surrogate (a code point of its own here), or an invisible formatting one. */
    private static boolean unprintable(int cp) {
        int type = Character.getType(cp);
        return Character.isISOControl(cp) || type == Character.SURROGATE || type == Character.FORMAT
                || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }

    private static String fault(String value, boolean identifier) {
        if (value == null) {
            return null;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == 0) {
                return "a NUL character (\\u0000), which cannot be stored";
            }
            if (pairAt(value, i)) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "a lone UTF-16 surrogate (" + escaped(c) + "), which is not Unicode text";
            } else if (identifier && Character.isISOControl(c)) {
                return "a control character (" + escaped(c) + ")";
            }
        }
        return null;
    }

    private static boolean pairAt(String value, int i) {
        return Character.isHighSurrogate(value.charAt(i)) && i + 1 < value.length()
                && Character.isLowSurrogate(value.charAt(i + 1));
    }

    private static String escaped(char c) {
        return String.format("\\u%04x", (int) c);
    }

    private StoredText() {
    }
}
