package fr.osfria.ingest.parsing;

import java.util.Map;

/** The document types Osfria indexes, by media type, with the name users know them by. */
public final class SupportedTypes {

    static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("application/pdf", "PDF"),
            Map.entry("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document"),
            Map.entry("application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint presentation"),
            Map.entry("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook"),
            Map.entry("application/msword", "Word 97 document"),
            Map.entry("application/vnd.ms-powerpoint", "PowerPoint 97 presentation"),
            Map.entry("application/vnd.ms-excel", "Excel 97 workbook"),
            Map.entry("application/vnd.oasis.opendocument.text", "OpenDocument text"),
            Map.entry("application/vnd.oasis.opendocument.presentation", "OpenDocument presentation"),
            Map.entry("application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet"),
            Map.entry("application/rtf", "RTF document"),
            Map.entry("text/html", "HTML page"),
            Map.entry("application/xhtml+xml", "XHTML page"),
            Map.entry("text/plain", "text"),
            Map.entry("text/markdown", "Markdown"),
            Map.entry("text/x-web-markdown", "Markdown"),
            Map.entry("text/csv", "CSV"));

    public static boolean supported(String mediaType) {
        return TYPES.containsKey(mediaType);
    }

    static boolean plainText(String mediaType) {
        return mediaType.equals("text/plain") || markdown(mediaType) || mediaType.equals("text/csv");
    }

    static boolean markdown(String mediaType) {
        return mediaType.equals("text/markdown") || mediaType.equals("text/x-web-markdown");
    }

    private SupportedTypes() {
    }
}
