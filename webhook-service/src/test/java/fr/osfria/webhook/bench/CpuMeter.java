package fr.osfria.webhook.bench;

import fr.osfria.testing.EmbeddedPostgres;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * CPU time spent per burst, by whom: on 2 shared cores deliveries/s mostly says how much CPU a delivery costs, and
 * swings with the load, while CPU time per delivery does not. The test JVM holds the service, the in-JVM Kafka broker
 * and the receivers: its threads are grouped by name (the receivers' threads are those their handlers ran on);
 * PostgreSQL is every process of the embedded cluster (the postmaster and its children, from {@code /proc}). Also the
 * transactions committed in the service's database (one per statement outside an explicit transaction).
 */
final class CpuMeter {

    private static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux
    static final String[] GROUPS = {"service event loops", "receivers", "Kafka", "other threads"};

    /** Threads the receivers' request handlers ran on. */
    final Set<Long> receiverThreads = ConcurrentHashMap.newKeySet();
    private final String jdbcUrl;
    private final String database;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final java.util.function.LongSupplier statements;

    /** {@code statements}: the SQL statements the service has sent so far (its pool's client metrics). */
    CpuMeter(String jdbcUrl, String database, java.util.function.LongSupplier statements) {
        this.jdbcUrl = jdbcUrl;
        this.database = database;
        this.statements = statements;
    }

    /** CPU nanoseconds so far: each JVM group, the JVM, PostgreSQL; the database's transactions, the service's statements. */
    record Snapshot(Map<String, Long> groups, long jvm, long postgres, long transactions, long statements) {
    }

    Snapshot snapshot() {
        Map<String, Long> groups = new LinkedHashMap<>();
        for (String g : GROUPS) {
            groups.put(g, 0L);
        }
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long cpu = threads.getThreadCpuTime(info.getThreadId());
            if (cpu > 0) {
                groups.merge(group(info), cpu, Long::sum);
            }
        }
        nativeThreadsCpu(groups);
        long jvm = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        return new Snapshot(groups, jvm, postgresCpu(), transactions(), statements.getAsLong());
    }

    /** One line: CPU-ms per 1,000 deliveries of each, from {@code before} to now. */
    String perThousand(Snapshot before, Snapshot after, int deliveries) {
        double k = deliveries / 1000.0;
        StringBuilder line = new StringBuilder(String.format("CPU-ms per 1,000 deliveries: PostgreSQL %.0f, JVM %.0f (",
                (after.postgres() - before.postgres()) / 1e6 / k, (after.jvm() - before.jvm()) / 1e6 / k));
        long threadsTotal = 0;
        for (String g : GROUPS) {
            long d = after.groups().get(g) - before.groups().get(g);
            threadsTotal += d;
            line.append(g).append(' ').append(String.format("%.0f", d / 1e6 / k)).append(", ");
        }
        for (String g : NATIVE_GROUPS) {
            long d = after.groups().get(g) - before.groups().get(g);
            threadsTotal += d;
            line.append(g).append(' ').append(String.format("%.0f", d / 1e6 / k)).append(", ");
        }
        // threads that ended meanwhile took theirs with them
        line.append(String.format("the rest %.0f)", Math.max(0, after.jvm() - before.jvm() - threadsTotal) / 1e6 / k));
        line.append(String.format("; SQL statements per delivery %.3f, transactions %.3f",
                (after.statements() - before.statements()) / (double) deliveries,
                (after.transactions() - before.transactions()) / (double) deliveries));
        return line.toString();
    }

    /** The share of the JVM's CPU that one group took, from {@code before} to {@code after}. */
    double share(Snapshot before, Snapshot after, String group) {
        long jvm = after.jvm() - before.jvm();
        return jvm <= 0 ? 0 : (after.groups().get(group) - before.groups().get(group)) / (double) jvm;
    }

    private String group(ThreadInfo info) {
        String name = info.getThreadName();
        if (receiverThreads.contains(info.getThreadId())) {
            return "receivers";
        }
        if (name.startsWith("vert.x-eventloop") || name.startsWith("vert.x-worker") || name.startsWith("executor-thread")) {
            return "service event loops";
        }
        if (name.contains("kafka") || name.contains("raft") || name.contains("quorum") || name.contains("data-plane")
                || name.contains("broker") || name.contains("controller") || name.contains("Reaper")) {
            return "Kafka";
        }
        return "other threads";
    }

    static final String[] NATIVE_GROUPS = {"GC", "JIT"};

    /**
     * The JVM's own threads, which are not Java threads, by their name in {@code /proc/self/task}: the collector's
     * (G1's workers, its concurrent and refinement threads, the VM thread that runs its pauses) and the JIT compilers'.
     * The JIT still compiling during a burst says the warm-up was too short, not that a delivery costs that much.
     */
    private static void nativeThreadsCpu(Map<String, Long> groups) {
        for (String g : NATIVE_GROUPS) {
            groups.put(g, 0L);
        }
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String group = name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler") ? "JIT"
                            : name.startsWith("GC Thread") || name.startsWith("G1 ") || name.equals("VM Thread") ? "GC" : null;
                    if (group != null) {
                        groups.merge(group, cpuTicks(fields(stat)) * (1_000_000_000L / TICKS_PER_SECOND), Long::sum);
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            // not Linux: counted in "the rest"
        }
    }

    /** The fields of a {@code /proc/.../stat} line after the command name (which may hold spaces): state, ppid, … */
    private static String[] fields(String stat) {
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    /** utime(14) + stime(15), in clock ticks, from {@link #fields}. */
    private static long cpuTicks(String[] fields) {
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /** utime + stime of the postmaster and every process it started (backends, writers, WAL). */
    private static long postgresCpu() {
        long postmaster;
        try {
            postmaster = Long.parseLong(Files.readAllLines(EmbeddedPostgres.dataDirectory().resolve("postmaster.pid")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        long ticks = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs.filter(p -> p.getFileName().toString().matches("\\d+"))::iterator) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = fields(stat);
                    long pid = Long.parseLong(p.getFileName().toString());
                    if (pid == postmaster || Long.parseLong(f[1]) == postmaster) {
                        ticks += cpuTicks(f);
                    }
                } catch (IOException | RuntimeException e) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return ticks * (1_000_000_000L / TICKS_PER_SECOND);
    }

    /** Transactions committed or rolled back in the service's database (the statistics lag up to a second). */
    private long transactions() {
        try (Connection c = connect();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '" + database + "'")) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (SQLException e) {
            return 0;
        }
    }

    /**
     * With {@code -Dosfria.test.postgres.preload=pg_stat_statements}: forgets what the server has counted so far
     * (false when the library is not loaded).
     */
    boolean resetStatementProfile() {
        try (Connection c = connect();
             Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("SELECT pg_stat_statements_reset()");
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    /** The statements that took most of the server's time since the reset: calls, rows, total and mean time. */
    List<String> statementProfile(int top) {
        List<String> lines = new ArrayList<>();
        try (Connection c = connect();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("""
                     SELECT calls, rows, total_exec_time, total_plan_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS q
                     FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT %d""".formatted(top))) {
            while (rs.next()) {
                // planning is counted only with -Dosfria.test.postgres.settings=pg_stat_statements.track_planning=on
                lines.add(String.format("%,d calls, %,d rows, %,.0f ms (%.2f ms per call), planning %,.0f ms: %s", rs.getLong(1),
                        rs.getLong(2), rs.getDouble(3), rs.getDouble(3) / Math.max(1, rs.getLong(1)), rs.getDouble(4),
                        rs.getString(5)));
            }
        } catch (SQLException e) {
            lines.add("no statement profile: " + e.getMessage());
        }
        return lines;
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, EmbeddedPostgres.USER, EmbeddedPostgres.PASSWORD);
    }
}
