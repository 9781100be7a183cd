package fr.osfria.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LocalSettingsTest {

    private final Path home = Path.of("/opt/osfria");

    @Test
    void defaultsKeepEverythingUnderTheProjectAndEmbedded() {
        LocalSettings s = LocalSettings.from(Map.of(), home);
        assertEquals(home.resolve(".osfria"), s.dataDir());
        assertEquals(8080, s.entryPort());
        assertEquals(8081, s.portOf(LocalSettings.SERVICES.get(0)));
        assertTrue(s.embeddedPostgres());
        assertEquals("127.0.0.1:19092", s.kafkaBootstrap());
        assertEquals(home.resolve(".osfria/keys.json"), s.keysFile());
    }

    @Test
    void anExistingPostgresCanBeNamed() {
        LocalSettings s = LocalSettings.from(Map.of("OSFRIA_POSTGRES", "db.internal:6543", "OSFRIA_POSTGRES_USER", "osfria"), home);
        assertFalse(s.embeddedPostgres());
        assertEquals("db.internal", s.postgresHost());
        assertEquals(6543, s.postgresPort());
        assertEquals("osfria", s.postgresUser());
    }

    @Test
    void badPortsAreRefusedWithTheVariableNamed() {
        for (String bad : new String[] {"abc", "0", "70000", "-1"}) {
            LocalPlatformException e = assertThrows(LocalPlatformException.class,
                    () -> LocalSettings.from(Map.of("OSFRIA_PORT", bad), home));
            assertTrue(e.getMessage().contains("OSFRIA_PORT"), e.getMessage());
        }
    }

    @Test
    void theEntryPortListensOnLoopbackAndHidesAlertsUnlessToldOtherwise() {
        LocalSettings s = LocalSettings.from(Map.of(), home);
        assertEquals("127.0.0.1", s.bindAddress());
        assertFalse(s.reachableFromOtherMachines());
        assertFalse(s.exposeAlerts());
        LocalSettings open = LocalSettings.from(Map.of("OSFRIA_BIND", "0.0.0.0", "OSFRIA_EXPOSE_ALERTS", "true"), home);
        assertEquals("0.0.0.0", open.bindAddress());
        assertTrue(open.reachableFromOtherMachines());
        assertTrue(open.exposeAlerts());
        assertEquals("::1", LocalSettings.from(Map.of("OSFRIA_BIND", "[::1]"), home).bindAddress());
        assertFalse(LocalSettings.from(Map.of("OSFRIA_BIND", "::1"), home).reachableFromOtherMachines());
    }

    @Test
    void aBindAddressOrFlagThatIsNotOneIsRefusedWithTheVariableNamed() {
        for (String bad : new String[] {"example.org", "localhost", "256.1.1.1", "1.2.3", "0.0.0.0; rm"}) {
            LocalPlatformException e = assertThrows(LocalPlatformException.class,
                    () -> LocalSettings.from(Map.of("OSFRIA_BIND", bad), home));
            assertTrue(e.getMessage().contains("OSFRIA_BIND"), e.getMessage());
        }
        LocalPlatformException e = assertThrows(LocalPlatformException.class,
                () -> LocalSettings.from(Map.of("OSFRIA_EXPOSE_ALERTS", "sure"), home));
        assertTrue(e.getMessage().contains("OSFRIA_EXPOSE_ALERTS"), e.getMessage());
    }

    @Test
    void theAppsListenersCertificateNamesTheAddressApplicationsAreGiven() {
        LocalSettings local = LocalSettings.from(Map.of(), home);
        assertEquals("localhost:19094", local.kafkaAppsBootstrap());
        assertTrue(KafkaAppsTls.names(local).containsAll(java.util.List.of("localhost", "127.0.0.1")));
        LocalSettings named = LocalSettings.from(Map.of("OSFRIA_BIND", "0.0.0.0",
                "OSFRIA_KAFKA_APPS_HOSTNAMES", " Kafka.Example.org, 10.0.0.7,[fd00::7]"), home);
        assertEquals(java.util.List.of("kafka.example.org", "10.0.0.7", "fd00::7"), named.kafkaAppsHostnames());
        assertEquals("kafka.example.org:19094", named.kafkaAppsBootstrap(), "the first name is the one printed");
        java.util.List<String> names = KafkaAppsTls.names(named);
        assertEquals(java.util.List.of("kafka.example.org", "10.0.0.7", "fd00::7", "localhost"), names.subList(0, 4));
        assertFalse(names.contains("0.0.0.0"), "every interface is no name");
        assertEquals("[fd00::7]:19094", LocalSettings.from(Map.of("OSFRIA_KAFKA_APPS_HOSTNAMES", "fd00::7"), home)
                .kafkaAppsBootstrap());
        // nothing that could smuggle another SAN entry or option into keytool's arguments
        for (String bad : new String[] {"a,dns:evil", "x y", "-ext", "dns:evil", "*.example.org", "under_score.org"}) {
            LocalPlatformException e = assertThrows(LocalPlatformException.class,
                    () -> LocalSettings.from(Map.of("OSFRIA_KAFKA_APPS_HOSTNAMES", bad), home), bad);
            assertTrue(e.getMessage().contains("OSFRIA_KAFKA_APPS_HOSTNAMES"), e.getMessage());
        }
    }

    @Test
    void eachServiceWithADatabaseGetsItsOwn() {
        assertEquals("ingest", LocalSettings.SERVICES.get(0).databaseName());
        assertEquals("webhook", LocalSettings.SERVICES.get(3).databaseName());
    }
}
