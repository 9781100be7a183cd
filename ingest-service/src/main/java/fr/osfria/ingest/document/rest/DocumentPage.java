package fr.osfria.ingest.document.rest;

import java.util.List;

/** One page of a collection's documents. */
public record DocumentPage(List<DocumentView> data, long total, int offset, int limit) {
}
