package fr.osfria.ingest.document.service;

/** An upload refused before anything was stored, with the HTTP status and a message for the user. */
public class InvalidUpload extends RuntimeException {

    private final int status;

    public InvalidUpload(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
