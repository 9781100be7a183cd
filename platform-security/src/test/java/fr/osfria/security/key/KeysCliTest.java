package fr.osfria.security.key;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysCliTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return KeysCli.run(args, dir.resolve("keys.json").toString(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void createPrintsTheKeyOnceAndStoresOnlyItsHash() throws Exception {
        assertEquals(0, run("create", "finance-app", "--roles", "user", "--read", "kb,reports", "--write", "kb",
                "--departments", "finance", "--confidential", "--monthly-tokens", "1000000"));
        String key = out().trim();
        assertTrue(ApiKeys.wellFormed(key), key);

        Path file = dir.resolve("keys.json");
        String stored = Files.readString(file);
        assertFalse(stored.contains(key.substring(ApiKeys.PREFIX.length())));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

        KeyEntry entry = KeyFile.read(file).get(0);
        assertEquals("finance-app", entry.name());
        assertTrue(ApiKeys.matches(key, entry.hash()));
        assertEquals(List.of("kb", "reports"), entry.readCollections());
        assertEquals(List.of("kb"), entry.writeCollections());
        assertEquals(List.of("finance"), entry.departments());
        assertTrue(entry.confidential());
        assertEquals(1_000_000L, entry.monthlyTokens());
        assertNotNull(entry.createdAt());

        assertEquals(0, run("list"));
        assertTrue(out().contains("finance-app") && out().contains("active"));
        assertFalse(out().contains(key));
    }

    @Test
    void revokeKeepsTheEntryButDisablesIt() {
        run("create", "temp");
        assertEquals(0, run("revoke", "temp"));
        KeyEntry entry = KeyFile.read(dir.resolve("keys.json")).get(0);
        assertTrue(entry.revoked());
        assertEquals(0, run("list"));
        assertTrue(out().contains("revoked"));
        assertEquals(1, run("revoke", "nobody"));
    }

    @Test
    void refusesDuplicatesHostileNamesAndBadNumbers() {
        assertEquals(0, run("create", "app"));
        assertEquals(2, run("create", "app"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("exists already"));
        assertEquals(2, run("create", "../../etc/passwd"));
        assertEquals(2, run("create", "a b"));
        assertEquals(2, run("create", "x", "--daily-tokens", "-5"));
        assertEquals(2, run("create", "x", "--daily-tokens"));
        assertEquals(2, run("explode"));
        assertEquals(2, run());
        assertEquals(1, KeyFile.read(dir.resolve("keys.json")).size());
    }

    @Test
    void aKafkaApplicationsNameMustBeASafeTopicComponentAndItsKeySaysItIsOne() throws Exception {
        for (String hostile : List.of("Billing", "a.b", "a_b", "app@corp", "x".repeat(41), "ANONYMOUS")) {
            assertEquals(2, run("create", hostile, "--kafka"), hostile);
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("1-40 lowercase letters, digits or '-'"), hostile);
        }
        assertTrue(KeyFile.readOrEmpty(dir.resolve("keys.json")).isEmpty(), "nothing written for a refused name");
        assertEquals(0, run("create", "billing-2", "--kafka", "--write", "invoices"));
        assertEquals(0, run("create", "plain"));
        List<KeyEntry> keys = KeyFile.read(dir.resolve("keys.json"));
        assertTrue(keys.get(0).kafkaApplication());
        assertFalse(keys.get(1).kafkaApplication());
        assertFalse(Files.readString(dir.resolve("keys.json")).replace(" ", "").contains("\"kafka\":false"),
                "keys that are no application's keep their form");
        assertEquals(0, run("revoke", "billing-2"));
        assertTrue(KeyFile.read(dir.resolve("keys.json")).get(0).kafkaApplication(), "revoking keeps the mark");
    }

    @Test
    void anApplicationDeclaresTheEventTypesItMayPublishAndTheyCanBeChanged() throws Exception {
        for (String hostile : List.of("Invoice", "a,%", "invoice_paid", "app.other.%", ".x", "x.", "x".repeat(51))) {
            assertEquals(2, run("create", "billing", "--kafka", "--event-types", hostile), hostile);
        }
        assertEquals(2, run("create", "plain", "--event-types", "invoice.created"), "only an application declares events");
        assertTrue(KeyFile.readOrEmpty(dir.resolve("keys.json")).isEmpty(), "nothing written for a refused type");
        assertEquals(0, run("create", "billing", "--kafka", "--event-types", "invoice.created,invoice.paid"));
        KeyEntry billing = KeyFile.read(dir.resolve("keys.json")).get(0);
        assertEquals(List.of("invoice.created", "invoice.paid"), billing.eventTypes());
        assertTrue(billing.declaresEventType("app.billing.invoice.paid"));
        assertFalse(billing.declaresEventType("invoice.paid"), "only under its own prefix");
        assertFalse(billing.declaresEventType("app.other.invoice.paid"));
        assertFalse(billing.declaresEventType("app.billing.invoice.refunded"));

        assertEquals(0, run("event-types", "billing", "invoice.refunded"));
        assertTrue(out().contains("app.billing.invoice.refunded"), out());
        assertEquals(List.of("invoice.refunded"), KeyFile.read(dir.resolve("keys.json")).get(0).eventTypes());
        assertEquals(0, run("event-types", "billing", ""));
        assertEquals(null, KeyFile.read(dir.resolve("keys.json")).get(0).eventTypes());
        assertEquals(0, run("create", "plain"));
        assertEquals(1, run("event-types", "plain", "x"), "a key that is no application's declares nothing");
        assertEquals(1, run("event-types", "nobody", "x"));
        assertEquals(0, run("revoke", "billing"));
        assertEquals(1, run("event-types", "billing", "x"), "nor does a revoked one");
    }

    @Test
    void anApplicationMayBeGivenTheUrlPrefixesItsFilesAreFetchedFrom() throws Exception {
        for (String bad : List.of("ftp://files.internal/", "files.internal/exports", "https://u:p@files.internal/",
                "https://files.internal/a/../b", "https://files.internal/%2e%2e/", "https://files.internal/x?y=1")) {
            assertEquals(2, run("create", "billing", "--kafka", "--fetch-from", bad), bad);
        }
        assertEquals(2, run("create", "plain", "--fetch-from", "https://files.internal/"), "only an application's key");
        assertTrue(KeyFile.readOrEmpty(dir.resolve("keys.json")).isEmpty(), "nothing written for a refused prefix");
        assertEquals(0, run("create", "billing", "--kafka", "--write", "invoices", "--fetch-from",
                "https://files.billing.internal/exports/,http://files.billing.internal:8080/out"));
        KeyEntry billing = KeyFile.read(dir.resolve("keys.json")).get(0);
        assertEquals(List.of("https://files.billing.internal/exports/", "http://files.billing.internal:8080/out"),
                billing.fetchFrom());
        assertEquals(0, run("list"));
        assertTrue(out().contains("fetch-from:https://files.billing.internal/exports/"), out());
        assertEquals(0, run("create", "other", "--kafka"));
        assertEquals(null, KeyFile.read(dir.resolve("keys.json")).get(1).fetchFrom(), "none by default");
    }

    @Test
    void aCorruptFileIsNeverOverwritten() throws Exception {
        Path file = dir.resolve("keys.json");
        Files.writeString(file, "{broken");
        assertEquals(1, run("create", "app"));
        assertEquals("{broken", Files.readString(file));
    }

    @Test
    void invalidRegistriesAreRefusedWithTheReason() throws Exception {
        Path file = dir.resolve("keys.json");
        Files.writeString(file, "{\"version\":2,\"keys\":[]}");
        assertTrue(assertThrows(KeyFile.InvalidKeyFileException.class, () -> KeyFile.read(file)).getMessage().contains("version"));
        Files.writeString(file, "{\"version\":1,\"keys\":[{\"name\":\"a\",\"hash\":\"sk-osfria-clear\"}]}");
        assertTrue(assertThrows(KeyFile.InvalidKeyFileException.class, () -> KeyFile.read(file)).getMessage().contains("hash"));
        String h = ApiKeys.hash(ApiKeys.generate());
        Files.writeString(file, "{\"version\":1,\"keys\":[{\"name\":\"a\",\"hash\":\"" + h + "\"},{\"name\":\"a\",\"hash\":\"" + h + "\"}]}");
        assertTrue(assertThrows(KeyFile.InvalidKeyFileException.class, () -> KeyFile.read(file)).getMessage().contains("twice"));
    }
}
