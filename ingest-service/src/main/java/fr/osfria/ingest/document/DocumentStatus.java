package fr.osfria.ingest.document;

import com.fasterxml.jackson.annotation.JsonValue;

public enum DocumentStatus {
    PROCESSING, INDEXED, FAILED;

    /** The API's status words are lower case. */
    @JsonValue
    public String word() {
        return name().toLowerCase();
    }
}
