package fr.osfria.local.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.local.LocalSettings;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * On the shared platform (started as {@code ./osfria up} in the foreground): what its terminal showed, and the
 * commands a person runs beside it: {@code status}, {@code logs}, and a second {@code up}. {@code up --detach} and
 * {@code down} are checked on the chaos suite's second start ({@code PlatformChaosIT}), to add no platform start.
 */
class LauncherCommandsIT {

    @Test
    void theFirstStartPrintsAShortProgressListAndTheAdminKeyInABox() throws Exception {
        SharedPlatform platform = SharedPlatform.get();
        List<String> lines = platform.launched().lines();
        int end = 0;
        while (end < lines.size() && !lines.get(end).startsWith("Data in ")) {
            end++;
        }
        List<String> shown = lines.subList(0, Math.min(lines.size(), end + 1));
        String terminal = String.join("\n", shown);
        assertTrue(shown.size() <= 24, "fits on one screen: " + shown.size() + " lines\n" + terminal);
        for (String part : List.of("PostgreSQL", "Kafka", "ingest-service", "embed-service", "inference-router",
                "webhook-service", "alert-bridge")) {
            assertTrue(shown.stream().anyMatch(l -> l.matches("\\s+" + part + "\\s+ready in [0-9.]+ s")), part + ":\n" + terminal);
        }
        assertFalse(terminal.contains("[ingest-service]") || terminal.contains("__  ____  __") || terminal.contains("KafkaConfig"),
                "no service output on the terminal:\n" + terminal);
        int key = indexOf(shown, "Admin API key: " + platform.adminKey());
        assertTrue(key > 0 && shown.get(key - 1).matches("\\+-+\\+") && shown.get(key).startsWith("| ")
                && shown.get(key + 1).contains("Shown once") && shown.get(key + 2).matches("\\+-+\\+"), "the key in a box:\n" + terminal);
        assertTrue(shown.stream().allMatch(l -> l.length() <= 100), "no line wider than a laptop's terminal:\n" + terminal);
        assertTrue(shown.stream().anyMatch(l -> l.matches("Console: http://\\S+:" + platform.entryPort() + "/console")),
                "the console's address:\n" + terminal);
        // the services' own lines are in their logs, never the key
        for (LocalSettings.Service s : LocalSettings.SERVICES) {
            String log = Files.readString(platform.dataDir().resolve("logs/" + s.name() + ".log"));
            assertTrue(log.contains("started in"), s.name() + "'s log has its start:\n" + log);
            assertFalse(log.contains(platform.adminKey()), "the admin key is in a log");
        }
    }

    @Test
    void statusShowsEachPartUpWithItsPortPidUptimeAndDataSize() throws Exception {
        SharedPlatform platform = SharedPlatform.get();
        OsfriaCommand.Result status = OsfriaCommand.run(platform, 60, "status");
        assertEquals(0, status.code(), status.output());
        assertTrue(status.output().contains("Osfria is up at http://localhost:" + platform.entryPort()), status.output());
        for (LocalSettings.Service s : LocalSettings.SERVICES) {
            long pid = platform.launched().service(s.name()).pid();
            assertTrue(status.output().lines().anyMatch(l -> l.matches(s.name() + "\\s+up\\s+" + (platform.entryPort()
                    + s.portOffset()) + "\\s+" + pid + "\\s+\\d+ (s|min \\d+ s)\\s+(-|[0-9.]+ (KB|MB))")), s.name() + ":\n" + status.output());
        }
        assertTrue(status.output().lines().anyMatch(l -> l.matches("postgresql\\s+up\\s+\\d+\\s+\\d+\\s+.*[0-9.]+ MB")), status.output());
        assertTrue(status.output().lines().anyMatch(l -> l.matches("kafka\\s+up\\s+\\d+\\s+\\d+\\s+.*(KB|MB)")), status.output());
    }

    @Test
    void logsPrintsOneServicesLogAndRefusesOtherNames() throws Exception {
        SharedPlatform platform = SharedPlatform.get();
        OsfriaCommand.Result log = OsfriaCommand.run(platform, 60, "logs", "inference-router");
        assertEquals(0, log.code(), log.output());
        assertTrue(log.output().contains("inference-router") && log.output().contains("started in"), log.output());
        OsfriaCommand.Result list = OsfriaCommand.run(platform, 60, "logs");
        assertTrue(list.output().contains("embed-service") && list.output().contains("kafka"), list.output());
        for (String hostile : List.of("../keys.json", "../../../etc/passwd", "kek.base64", "inference-router/../../keys")) {
            OsfriaCommand.Result refused = OsfriaCommand.run(platform, 60, "logs", hostile);
            assertEquals(2, refused.code(), refused.output());
            assertFalse(refused.output().contains("sha256:") || refused.output().contains("root:"), refused.output());
        }
    }

    @Test
    void aSecondUpWhileOneRunsSaysSoAndLeavesItRunning() throws Exception {
        SharedPlatform platform = SharedPlatform.get();
        OsfriaCommand.Result second = OsfriaCommand.run(platform, 60, "up");
        assertEquals(1, second.code(), second.output());
        assertTrue(second.output().contains("Osfria already runs on " + platform.dataDir()) && second.output().contains("./osfria down"),
                second.output());
        assertEquals(200, platform.adminApi().get("/v1/models").statusCode(), "the running platform still answers");
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }
}
