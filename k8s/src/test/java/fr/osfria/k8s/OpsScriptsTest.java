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
        for (String tool : List.of("kubectl", "k3s")) {
            Path copy = bin.resolve(tool);
            Files.copy(Path.of("src/test/resources/fake-cluster", tool), copy);
            copy.toFile().setExecutable(true);
        }
        data = Files.createDirectories(work.resolve("data/blobs/ab"));
        Files.writeString(data.resolve("cd1234"), "original file bytes");
        data = work.resolve("data");
        qdrant = Files.createDirectories(work.resolve("qdrant"));
        Files.writeString(qdrant.resolve("osfria-chunks.snapshot"), "qdrant snapshot bytes");
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
                "lib.sh", "health-check", "backup", "restore", "kek-reseal");
        assertEquals(0, r.exit(), r.out() + r.err());
    }

    @Test
    void aBackupHoldsEverythingChecksOutAndOldArchivesExpire() throws Exception {
        Files.createDirectories(backups);
        Path old = Files.writeString(backups.resolve("osfria-backup-20261001T023000Z.tar.gz"), "old");
        Path recent = Files.writeString(backups.resolve("osfria-backup-20261116T023000Z.tar.gz"), "recent");
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(40))));
        Files.setLastModifiedTime(recent, FileTime.from(Instant.now().minus(Duration.ofDays(10))));

        Tools.Result r = run(Map.of(), OPS.resolve("backup").toString(), "--dir", backups.toString(), "--retention-days", "30");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("OSFRIA BACKUP OK"), r.out());
        assertFalse(Files.exists(old), "an archive older than 30 days is kept");
        assertTrue(Files.exists(recent), "an archive of 10 days was removed");
        Path archive = newest();
        Tools.Result listing = Tools.run(work, Map.of(), "tar", "-tzf", archive.toString());
        for (String part : List.of("./SHA256SUMS", "./postgres/ingest.dump", "./postgres/webhook.dump",
                "./qdrant/osfria-chunks.snapshot", "./blobs.tar", "./objects.yaml")) {
            assertTrue(listing.out().contains(part + "\n"), part + " missing from\n" + listing.out());
        }
        assertTrue(listing.out().contains("./etcd/osfria-"), "no etcd snapshot");
        try (Stream<Path> left = Files.list(backups)) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".")
                    || p.toString().endsWith(".partial")).toList(), "work files left behind");
        }
    }

    @Test
    void aRestorePutsBackTheDatabasesAndFilesInTheDocumentedOrder() throws Exception {
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
        assertEquals("qdrant snapshot bytes", Files.readString(qdrant.resolve("restored-osfria-chunks.snapshot")));

        List<String> calls = Files.readAllLines(log);
        int apply = indexOf(calls, "apply -f");
        int files = indexOf(calls, "tar -C /var/lib/osfria -xf");
        int scaleDown = indexOf(calls, "--replicas=0");
        int restore = indexOf(calls, "pg_restore");
        int qdrantRecover = indexOf(calls, "snapshots/recover");
        int scaleUp = indexOf(calls, "--replicas=2");
        assertTrue(apply < files && files < scaleDown && scaleDown < restore && restore < qdrantRecover
                && qdrantRecover < scaleUp, "order of operations:\n" + String.join("\n", calls));
    }

    @Test
    void aDamagedArchiveIsRefusedBeforeAnythingIsTouched() throws Exception {
        assertEquals(0, run(Map.of(), OPS.resolve("backup").toString(), "--dir", backups.toString(), "--skip-etcd").exit());
        Path archive = newest();
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
