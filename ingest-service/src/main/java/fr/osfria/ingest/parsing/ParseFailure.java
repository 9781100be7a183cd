package fr.osfria.ingest.parsing;

/** A document that cannot be turned into text; the message is what the user sees as the document's error. */
public class ParseFailure extends Exception {
    public ParseFailure(String message) {
        super(message);
    }

    public ParseFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
