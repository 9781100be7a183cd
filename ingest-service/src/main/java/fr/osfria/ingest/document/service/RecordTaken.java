package fr.osfria.ingest.document.service;

/**
 * A Kafka application's record already made a document (another reading of it committed first): the document
 * being created is not one, its transaction rolls back.
 */
final class RecordTaken extends RuntimeException {

    RecordTaken(Submission submission) {
        super("record " + submission.eventId() + " of application " + submission.application() + " is already a document",
                null, false, false);
    }
}
