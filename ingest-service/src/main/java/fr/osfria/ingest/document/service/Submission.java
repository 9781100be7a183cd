package fr.osfria.ingest.document.service;

/**
 * The Kafka record a document came in ({@code osfria.app.<application>.documents.v1}): its outcome is published to
 * that application's results topic with {@code correlationId}; {@code eventId} (the record's CloudEvent id) makes
 * one document at most, however often the record is read.
 */
public record Submission(String application, String eventId, String correlationId) {
}
