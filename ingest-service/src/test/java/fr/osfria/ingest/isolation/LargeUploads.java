package fr.osfria.ingest.isolation;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** The production file limit's order of magnitude (the test default is 2 MiB), for documents of thousands of chunks. */
public class LargeUploads implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("osfria.ingest.max-file-bytes", String.valueOf(8 * 1024 * 1024),
                "quarkus.http.limits.max-body-size", "9M",
                "quarkus.http.test-timeout", "300s"); // a first upload loads Tika's classes: slow on a busy machine
    }
}
