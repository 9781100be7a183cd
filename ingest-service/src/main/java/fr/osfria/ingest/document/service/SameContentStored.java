package fr.osfria.ingest.document.service;

import fr.osfria.ingest.document.Document;

/**
 * A concurrent upload of the same content, readable by the same key, committed first (a client that sent its
 * upload again after a time-out or a 502 while the first was still being stored): the document being created is
 * not one, its transaction rolls back and the upload answers as the duplicate of {@link #existing}.
 */
final class SameContentStored extends RuntimeException {

    final transient Document existing;

    SameContentStored(Document existing) {
        super("the same content was stored meanwhile as " + existing.id, null, false, false);
        this.existing = existing;
    }
}
