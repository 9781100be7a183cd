package fr.osfria.ingest;

import fr.osfria.ingest.appkafka.DocumentsByUrlTest;
import fr.osfria.ingest.appkafka.ScriptedDns;
import fr.osfria.ingest.isolation.PostgresOutageUploadTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * An install as it is after a while in operation: it fetches Kafka applications' files from an internal file server
 * ({@link DocumentsByUrlTest}, {@code RecordsReadTwiceTest}), has rotated its KEK once ({@code KekRotatedDocumentsTest}),
 * and reaches PostgreSQL through a switch the tests can cut ({@link PostgresOutageUploadTest}). One profile rather
 * than three because each profile costs a Quarkus build and start; none of these tests depends on the others'
 * settings (fetching never looks at the KEK, the rotation's tests upload small inline files, and the database is
 * reachable but for the moments the outage tests cut it, each restoring it before it ends).
 */
public class OperatedInstall implements QuarkusTestProfile {

    /** The default test configuration's KEK, retired here. */
    public static final String KEK_1 = "q1sI2lFwqtg6qGvDhoJDhn2JX5vwVfCJmCh1ZGbk2Ow=";
    /** The active KEK here. */
    public static final String KEK_2 = "3q7Jr1Jb0m8o0F2vQy5Zc4s9mX6tH1aPz8wL2kN5uRk=";

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> config = new HashMap<>(DocumentsByUrlTest.fileServerSettings());
        config.putAll(PostgresOutageUploadTest.databaseBehindASwitch());
        config.put("osfria.encryption.kek", "kek-2:" + KEK_2);
        config.put("osfria.encryption.retired-keks", "kek-1:" + KEK_1);
        return config;
    }

    @Override
    public Set<Class<?>> getEnabledAlternatives() {
        return Set.of(ScriptedDns.class);
    }
}
