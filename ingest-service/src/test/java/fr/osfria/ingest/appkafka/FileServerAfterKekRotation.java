package fr.osfria.ingest.appkafka;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;
import java.util.Set;

/**
 * An install that fetches Kafka applications' files from an internal file server and has rotated its KEK once:
 * the settings of {@link DocumentsByUrlTest} and {@link RecordsReadTwiceTest} (the file server, the fetch limits, a
 * scripted DNS) and of {@code KekRotatedDocumentsTest} (kek-1 retired, kek-2 active), in one profile because each
 * profile costs a Quarkus build and start. Neither group of tests depends on the other's settings: fetching never
 * looks at the KEK, and the rotation's tests upload small inline files.
 */
public class FileServerAfterKekRotation implements QuarkusTestProfile {

    /** The default test configuration's KEK, retired here. */
    public static final String KEK_1 = "q1sI2lFwqtg6qGvDhoJDhn2JX5vwVfCJmCh1ZGbk2Ow=";
    /** The active KEK here. */
    public static final String KEK_2 = "3q7Jr1Jb0m8o0F2vQy5Zc4s9mX6tH1aPz8wL2kN5uRk=";

    @Override
    public Map<String, String> getConfigOverrides() {
        int port = DocumentsByUrlTest.port("files");
        return Map.of(
                // the file server under names, and by its address (which is loopback: not allowed by itself)
                "osfria.ingest.fetch.allowed-hosts", String.join(",", ScriptedDns.FILES + ":" + port,
                        ScriptedDns.REBOUND + ":" + port, ScriptedDns.METADATA + ":" + port, "127.0.0.1:" + port,
                        ScriptedDns.FLIP + ":" + port),
                "osfria.ingest.fetch.allowed-local-hosts", ScriptedDns.FILES + "," + ScriptedDns.FLIP,
                "osfria.ingest.fetch.timeout", DocumentsByUrlTest.DEADLINE + "s",
                "osfria.ingest.max-file-bytes", String.valueOf(DocumentsByUrlTest.LIMIT),
                "osfria.ingest.upload-memory-bytes", String.valueOf(DocumentsByUrlTest.UPLOAD_MEMORY),
                "osfria.encryption.kek", "kek-2:" + KEK_2,
                "osfria.encryption.retired-keks", "kek-1:" + KEK_1);
    }

    @Override
    public Set<Class<?>> getEnabledAlternatives() {
        return Set.of(ScriptedDns.class);
    }
}
