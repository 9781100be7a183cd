package fr.osfria.ingest.document.service;

/**
 * The Kafka record a document came in ({@code osfria.app.<application>.documents.v1}): its outcome is published to
 * that application's results topic with {@code correlationId}.
 */
public record Submission(String application, String correlationId) {
}
