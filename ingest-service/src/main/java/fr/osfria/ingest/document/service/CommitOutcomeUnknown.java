package fr.osfria.ingest.document.service;

/**
 * The connection to PostgreSQL was lost while it committed a new document: every statement had been answered, so the
 * document may well be stored. What was written for it (its original) must stay; the caller is answered as for the
 * database out of reach (the cause says so), and sent again the upload finds its document.
 */
public final class CommitOutcomeUnknown extends RuntimeException {

    CommitOutcomeUnknown(Throwable cause) {
        super("the commit's outcome is unknown: " + cause.getMessage(), cause, false, false);
    }
}
