package fr.osfria.ingest.document.service;

/**
 * An upload refused before anything was stored, with the HTTP status and a message for the user. The message may
 * quote the caller's text; it is audited and sent in a Kafka header, so it holds no control character
 * ({@link StoredText#printable}).
 */
public class InvalidUpload extends RuntimeException {

    private final int status;
    private final String code;

    public InvalidUpload(int status, String message) {
        this(status, message, null);
    }

    /** {@code code}: the error's code, where its status alone does not tell it. */
    public InvalidUpload(int status, String message, String code) {
        super(StoredText.printable(message));
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    /** The error's code, or null for the one its status gives. */
    public String code() {
        return code;
    }
}
