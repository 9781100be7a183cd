package fr.osfria.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operations scripts, linted by shellcheck and run for real against stand-ins for the cluster: a real PostgreSQL
 * dumped and restored with the real pg_dump/pg_restore, a real blob directory, real archives with their checksums and
 * retention. Only kubectl and k3s are stand-ins (src/test/resources/fake-cluster).
 */
class OpsScriptsTest {

    private static final Path OPS = Rendered.K8S.resolve("ops");
    private static EmbeddedPostgres postgres;

    private Path work;
    private Path bin;
    private Path data;
    private Path qdrant;
    private Path backups;
    private Path log;
    private Path models;
    private Path passphrase;
    static final String SECRET = "pg-password-7Hq2x-never-in-clear";

    @BeforeAll
    static void startPostgres() throws Exception {
        Tools.require(Tools.onPath("pg_dump").filter(p -> Tools.onPath("pg_restore").isPresent()),
                "pg_dump and pg_restore (PostgreSQL 15 client)");
        postgres = EmbeddedPostgres.builder().start();
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE ingest");
            s.execute("CREATE DATABASE webhook");
        }
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @BeforeEach
    void site() throws Exception {
        work = Files.createTempDirectory("osfria-ops");
        bin = Files.createDirectories(work.resolve("bin"));
        for (String tool : List.of("kubectl", "k3s", "ping")) {
            Path copy = bin.resolve(tool);
            Files.copy(Path.of("src/test/resources/fake-cluster", tool), copy);
            copy.toFile().setExecutable(true);
        }
        data = Files.createDirectories(work.resolve("data/blobs/ab"));
        Files.writeString(data.resolve("cd1234"), "original file bytes");
        data = work.resolve("data");
        qdrant = Files.createDirectories(work.resolve("qdrant"));
        Files.writeString(qdrant.resolve("osfria-chunks.snapshot"), "qdrant snapshot bytes");
        models = Files.createDirectories(work.resolve("models/deepseek-r2-78b-int4"));
        Files.writeString(models.resolve("config.json"), "{\"model_type\":\"deepseek\"}");
        models = work.resolve("models");
        passphrase = Files.writeString(work.resolve("backup-passphrase"), "correct horse battery staple\n");
        backups = work.resolve("backups");
        log = work.resolve("calls.log");
        Files.writeString(log, "");
        sql("ingest", "DROP TABLE IF EXISTS document; CREATE TABLE document (id text primary key, status text);"
                + "INSERT INTO document VALUES ('doc_1', 'INDEXED'), ('doc_2', 'PROCESSING')");
        sql("webhook", "DROP TABLE IF EXISTS subscription; CREATE TABLE subscription (id text primary key, url text);"
                + "INSERT INTO subscription VALUES ('wh_1', 'https://example.org/hook')");
    }

    private Tools.Result run(Map<String, String> extra, String... command) {
        Map<String, String> env = new HashMap<>();
        env.put("PATH", bin + ":" + System.getenv("PATH"));
        env.put("FAKE_LOG", log.toString());
        env.put("FAKE_DATA", data.toString());
        env.put("FAKE_QDRANT", qdrant.toString());
        env.put("FAKE_MODELS", models.toString());
        env.put("FAKE_SECRET", SECRET);
        env.put("OSFRIA_BACKUP_PASSPHRASE_FILE", passphrase.toString());
        env.put("PGHOST", "localhost");
        env.put("PGPORT", String.valueOf(postgres.getPort()));
        env.put("PGUSER", "postgres");
        env.putAll(extra);
        return Tools.run(work, env, command);
    }

    @Test
    void scriptsAreShellcheckClean() {
        Path shellcheck = Tools.require(Tools.fromDebian("shellcheck", "shellcheck", "usr/bin/shellcheck"), "shellcheck");
        Tools.Result r = Tools.run(OPS, Map.of(), shellcheck.toString(), "-x", "--source-path=SCRIPTDIR",
                "lib.sh", "health-check", "backup", "restore", "kek-reseal", "log-cleanup");
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void aBackupHoldsEverythingChecksOutAndOldArchivesExpire() throws Exception {
        Files.createDirectories(backups);
        Path old = Files.writeString(backups.resolve("osfria-backup-20261001T023000Z.tar.gz"), "old");
        Path recent = Files.writeString(backups.resolve("osfria-backup-20261116T023000Z.tar.gz"), "recent");
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(40))));
        Files.setLastModifiedTime(recent, FileTime.from(Instant.now().minus(Duration.ofDays(10))));

        Tools.Result r = run(Map.of(), OPS.resolve("backup").toString(), "--dir", backups.toString(), "--retention-days", "30",
                "--with-models");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("OSFRIA BACKUP OK"), r.out());
        assertFalse(Files.exists(old), "an archive older than 30 days is kept");
        assertTrue(Files.exists(recent), "an archive of 10 days was removed");
        Path archive = newest();
        Tools.Result listing = Tools.run(work, Map.of(), "tar", "-tzf", archive.toString());
        for (String part : List.of("./SHA256SUMS", "./postgres/ingest.dump", "./postgres/webhook.dump",
                "./qdrant/osfria-chunks.snapshot", "./blobs.tar", "./objects.yaml.enc", "./config/all-namespaces.yaml.enc",
                "./volumes/persistent-volumes.json", "./volumes/persistent-volume-claims.json", "./models.tar")) {
            assertTrue(listing.out().contains(part + "\n"), part + " missing from\n" + listing.out());
        }
        assertFalse(listing.out().contains("./objects.yaml\n"), "ConfigMaps and Secrets in clear");
        Tools.Result modelFiles = Tools.run(work, Map.of(), "bash", "-c",
                "tar -xzOf '" + archive + "' ./models.tar | tar -tf -");
        assertTrue(modelFiles.out().contains("deepseek-r2-78b-int4/config.json"), modelFiles.out());
        assertTrue(listing.out().contains("./etcd/osfria-"), "no etcd snapshot");
        try (Stream<Path> left = Files.list(backups)) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".")
                    || p.toString().endsWith(".partial")).toList(), "work files left behind");
        }
    }

    @Test
    void aRestorePutsBackTheDatabasesAndFilesInTheDocumentedOrder() throws Exception {
        // an old file: restored with its old modification time, ingest-service's orphan sweep (1 h grace) could take it
        Files.setLastModifiedTime(data.resolve("blobs/ab/cd1234"), FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        assertEquals(0, run(Map.of(), OPS.resolve("backup").toString(), "--dir", backups.toString(), "--skip-etcd").exit());
        Path archive = newest();
        // the site loses data after the backup
        sql("ingest", "DELETE FROM document WHERE id = 'doc_1'; INSERT INTO document VALUES ('doc_9', 'FAILED')");
        sql("webhook", "DROP TABLE subscription");
        Files.writeString(data.resolve("blobs/ab/cd1234"), "overwritten");
        Files.writeString(log, "");

        assertNotEquals(0, run(Map.of(), OPS.resolve("restore").toString(), archive.toString()).exit(), "restored without --yes");
        Tools.Result r = run(Map.of(), OPS.resolve("restore").toString(), archive.toString(), "--yes");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of("doc_1:INDEXED", "doc_2:PROCESSING"), rows("ingest", "SELECT id || ':' || status FROM document ORDER BY id"));
        assertEquals(List.of("wh_1"), rows("webhook", "SELECT id FROM subscription"));
        assertEquals("original file bytes", Files.readString(data.resolve("blobs/ab/cd1234")));
        assertTrue(Files.getLastModifiedTime(data.resolve("blobs/ab/cd1234")).toInstant()
                .isAfter(Instant.now().minus(Duration.ofMinutes(10))), "a restored file kept its old modification time");
        assertEquals("qdrant snapshot bytes", Files.readString(qdrant.resolve("restored-osfria-chunks.snapshot")));
        // the namespace's Secrets came back decrypted, and nothing decrypted stayed behind
        assertTrue(Files.readString(data.resolve("applied.yaml")).contains("kind: Secret"), "no Secret applied");

        List<String> calls = Files.readAllLines(log);
        int apply = indexOf(calls, "apply -f");
        int files = indexOf(calls, "tar -m -C /var/lib/osfria -xf");
        int scaleDown = indexOf(calls, "--replicas=0");
        int restore = indexOf(calls, "pg_restore");
        int qdrantRecover = indexOf(calls, "snapshots/recover");
        int scaleUp = indexOf(calls, "--replicas=2");
        // writers stopped first, then the databases, then the files (which the restored rows refer to)
        assertTrue(apply < scaleDown && scaleDown < restore && restore < files && files < qdrantRecover
                && qdrantRecover < scaleUp, "order of operations:\n" + String.join("\n", calls));
    }

    @Test
    void aDamagedArchiveOrAWrongPassphraseIsRefusedBeforeAnythingIsTouched() throws Exception {
        assertEquals(0, run(Map.of(), OPS.resolve("backup").toString(), "--dir", backups.toString(), "--skip-etcd").exit());
        Path archive = newest();
        Path wrong = Files.writeString(work.resolve("wrong"), "not the passphrase\n");
        Files.writeString(log, "");
        Tools.Result wrongPassphrase = run(Map.of("OSFRIA_BACKUP_PASSPHRASE_FILE", wrong.toString()),
                OPS.resolve("restore").toString(), archive.toString(), "--yes");
        assertNotEquals(0, wrongPassphrase.exit());
        assertTrue(wrongPassphrase.err().contains("do not decrypt"), wrongPassphrase.err());
        assertFalse(Files.readString(log).contains("apply"), "touched the site: " + Files.readString(log));

        Path unpacked = Files.createDirectories(work.resolve("unpacked"));
        Tools.run(work, Map.of(), "tar", "-C", unpacked.toString(), "-xzf", archive.toString());
        Files.writeString(unpacked.resolve("postgres/ingest.dump"), "tampered");
        Path damaged = work.resolve("damaged.tar.gz");
        Tools.run(work, Map.of(), "tar", "-C", unpacked.toString(), "-czf", damaged.toString(), ".");
        Files.writeString(log, "");

        Tools.Result r = run(Map.of(), OPS.resolve("restore").toString(), damaged.toString(), "--yes");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("does not match its checksums"), r.err());
        assertFalse(Files.readString(log).contains("apply"), "touched the site: " + Files.readString(log));
    }

    @Test
    void failuresStopLoudlyAndLeaveNoHalfArchive() throws Exception {
        Tools.Result down = run(Map.of("FAKE_CLUSTER_DOWN", "1"), OPS.resolve("backup").toString(), "--dir", backups.toString());
        assertNotEquals(0, down.exit());
        assertTrue(down.err().contains("unreachable"), down.err());

        Files.delete(bin.resolve("k3s"));
        Tools.Result noK3s = run(Map.of(), OPS.resolve("backup").toString(), "--dir", backups.toString());
        assertNotEquals(0, noK3s.exit());
        assertTrue(noK3s.err().contains("missing tools: k3s"), noK3s.err());

        Tools.Result dumpFails = run(Map.of("FAKE_PG_DUMP_FAILS", "1"), OPS.resolve("backup").toString(), "--dir",
                backups.toString(), "--skip-etcd");
        assertNotEquals(0, dumpFails.exit());
        assertTrue(dumpFails.err().contains("backup failed"), dumpFails.err());
        try (Stream<Path> left = Files.list(backups)) {
            assertEquals(List.of(), left.toList(), "a failed backup left files behind");
        }

        Tools.Result health = run(Map.of("FAKE_CLUSTER_DOWN", "1"), OPS.resolve("health-check").toString());
        assertEquals(3, health.exit());
        assertTrue(health.out().startsWith("UNKNOWN"), health.out());
    }

    /** The documentation's checks, each with its threshold (configurable), on a healthy site and on broken ones. */
    @Test
    void theHealthCheckLooksAtEverythingTheDocumentationLists() {
        Path check = OPS.resolve("health-check");
        Tools.Result healthy = run(Map.of("FAKE_PING_MS", "0.400"), check.toString());
        assertEquals(0, healthy.exit(), healthy.out());
        for (String line : List.of("OK    2 nodes ready", "OK    2 pods ready in every namespace", "OK    1 vLLM pods ready",
                "OK    3 vLLM backends healthy", "OK    vllm-server-a: GPU 45 % busy, memory 60000/81920 MiB (73 %), 62 °C",
                "OK    2 Longhorn pods ready", "OK    Longhorn volumes healthy", "OK    node 10.0.0.21: 0.400 ms round trip")) {
            assertTrue(healthy.out().contains(line + "\n"), line + " missing from\n" + healthy.out());
        }

        // every warning at once (each script run costs ~30 stand-in calls): a slow network, a full GPU, a pod of
        // another namespace and a Longhorn pod crash-looping, a degraded volume
        Tools.Result warnings = run(Map.of("FAKE_PING_MS", "2.000", "FAKE_GPU", "99, 80000, 81920, 70", "FAKE_BROKEN_POD", "1",
                "FAKE_LONGHORN_POD_STATUS", "CrashLoopBackOff", "FAKE_VOLUME", "degraded"), check.toString());
        assertEquals(1, warnings.exit(), warnings.out());
        for (String line : List.of("WARN  node 10.0.0.11: 2.000 ms round trip (limit 1.5 ms)",
                "WARN  vllm-server-a: GPU memory 80000/81920 MiB (98 %, limit 95 %)",
                "WARN  pods not ready: monitoring/prometheus-0(CrashLoopBackOff)",
                "WARN  Longhorn pods not ready: longhorn-system/longhorn-manager-x7k2p(CrashLoopBackOff)",
                "WARN  Longhorn volumes: pvc-9f8e=degraded")) {
            assertTrue(warnings.out().contains(line + "\n"), line + " missing from\n" + warnings.out());
        }
        // thresholds are settings
        assertEquals(0, run(Map.of("FAKE_PING_MS", "2.000", "OSFRIA_HEALTH_PING_MAX_MS", "2.5"), check.toString()).exit());
        // critical: a faulted volume, a GPU above 85 °C
        Tools.Result critical = run(Map.of("FAKE_VOLUME", "faulted", "FAKE_GPU", "99, 60000, 81920, 88"), check.toString());
        assertEquals(2, critical.exit(), critical.out());
        assertTrue(critical.out().contains("CRIT  Longhorn volumes faulted: pvc-9f8e=faulted"), critical.out());
        assertTrue(critical.out().contains("CRIT  vllm-server-a: GPU at 88 °C (limit 85 °C)"), critical.out());
    }

    @Test
    void theWeeklyLogCleanUpRemovesOnlyOldLogs() throws Exception {
        Path logs = Files.createDirectories(work.resolve("var-log-osfria"));
        Path old = Files.writeString(logs.resolve("backup.log"), "old");
        Path oldRotated = Files.writeString(logs.resolve("health.log.1"), "old");
        Path recent = Files.writeString(logs.resolve("health.log"), "recent");
        Path notALog = Files.writeString(logs.resolve("keep.txt"), "not a log");
        for (Path p : List.of(old, oldRotated, notALog)) {
            Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(Duration.ofDays(9))));
        }
        Tools.Result r = run(Map.of(), OPS.resolve("log-cleanup").toString(), "--dir", logs.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("2 file(s) older than 7 days removed"), r.out());
        assertFalse(Files.exists(old));
        assertFalse(Files.exists(oldRotated));
        assertTrue(Files.exists(recent) && Files.exists(notALog));
    }

    private Path newest() throws Exception {
        try (Stream<Path> files = Files.list(backups)) {
            return files.filter(p -> p.getFileName().toString().matches("osfria-backup-.*\\.tar\\.gz"))
                    .max((a, b) -> a.getFileName().compareTo(b.getFileName())).orElseThrow();
        }
    }

    private static int indexOf(List<String> calls, String part) {
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).contains(part)) {
                return i;
            }
        }
        throw new AssertionError("no call with '" + part + "' in\n" + String.join("\n", calls));
    }

    private static void sql(String db, String statements) throws Exception {
        try (Connection c = postgres.getDatabase("postgres", db).getConnection(); Statement s = c.createStatement()) {
            for (String statement : statements.split(";")) {
                s.execute(statement);
            }
        }
    }

    private static List<String> rows(String db, String query) throws Exception {
        try (Connection c = postgres.getDatabase("postgres", db).getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(query)) {
            List<String> out = new java.util.ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }
}
