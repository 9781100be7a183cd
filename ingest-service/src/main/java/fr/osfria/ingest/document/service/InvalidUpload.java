package fr.osfria.ingest.document.service;

/**
 * An upload refused before anything was stored, with the HTTP status and a message for the user. The message may
 * quote the caller's text; it is audited and sent in a Kafka header, so it holds no control character
 * ({@link StoredText#printable}).
 */
public class InvalidUpload extends RuntimeException {

    private final int status;

    public InvalidUpload(int status, String message) {
        super(StoredText.printable(message));
        this.status = status;
    }

    public int status() {
        return status;
    }
}
