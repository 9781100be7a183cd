package fr.osfria.local;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One part's log, {@code <data>/logs/<name>.log}, capped: past {@link #CAP} bytes it is renamed {@code <name>.log.1}
 * (the previous {@code .1} becoming {@code .2}, the older one dropped), so each part keeps at most three times the
 * cap. One instance per file, shared by the successive incarnations of a restarted process.
 */
public final class LogFile {

    /** Bytes a log holds before it is rotated. */
    public static final long CAP = 10L * 1024 * 1024;
    static final int KEPT = 2;

    /** The parts that log, in start order: what {@code osfria logs NAME} accepts. */
    public static final List<String> NAMES = List.of("osfria", "postgresql", "kafka", "ingest-service", "embed-service",
            "inference-router", "webhook-service", "alert-bridge");

    private static final Map<Path, LogFile> OPEN = new ConcurrentHashMap<>();

    private final Path file;
    private final long cap;
    private OutputStream out;
    private long size;

    LogFile(Path file, long cap) {
        this.file = file;
        this.cap = cap;
    }

    /** The log of {@code name} under {@code dataDir}. */
    public static LogFile of(Path dataDir, String name) {
        return OPEN.computeIfAbsent(path(dataDir, name).toAbsolutePath(), f -> new LogFile(f, CAP));
    }

    public static Path path(Path dataDir, String name) {
        return dataDir.resolve("logs").resolve(name + ".log");
    }

    public Path file() {
        return file;
    }

    /** Appends one line; a log that cannot be written never stops the platform. */
    public synchronized void line(String line) {
        try {
            if (out == null) {
                Files.createDirectories(file.getParent());
                ownerOnly(file.getParent(), "rwx------");
                out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                ownerOnly(file, "rw-------");
                size = Files.size(file);
            }
            byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
            if (size > 0 && size + bytes.length > cap) {
                rotate();
            }
            out.write(bytes);
            out.flush();
            size += bytes.length;
        } catch (IOException e) {
            out = null; // tried again at the next line
        }
    }

    /** Rotates a file some other writer fills (PostgreSQL's), when it is past the cap: before that writer starts. */
    public synchronized void rotateIfFull() {
        try {
            if (Files.exists(file) && Files.size(file) > cap) {
                rotate();
            }
        } catch (IOException e) {
            // the writer appends to the old file
        }
    }

    private void rotate() throws IOException {
        if (out != null) {
            out.close();
        }
        for (int i = KEPT; i >= 1; i--) {
            Path from = i == 1 ? file : Path.of(file + "." + (i - 1));
            if (Files.exists(from)) {
                Files.move(from, Path.of(file + "." + i), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (out != null) {
            out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        size = 0;
    }

    /** The last line of the log that says what went wrong (an error, fatal or exception line), else its last line. */
    public String reason() {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            String last = null;
            String error = null;
            for (String l : lines.subList(Math.max(0, lines.size() - 200), lines.size())) {
                if (!l.isBlank()) {
                    last = l.strip();
                    String lower = l.toLowerCase(java.util.Locale.ROOT);
                    if (lower.contains("error") || lower.contains("exception") || lower.contains("fatal")) {
                        error = l.strip();
                    }
                }
            }
            String reason = error != null ? error : last;
            return reason == null ? null : reason.length() > 160 ? reason.substring(0, 157) + "…" : reason;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Services' output names documents and callers: other users of the machine do not read it. */
    static void ownerOnly(Path path, String permissions) {
        try {
            Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString(permissions));
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: its own access rules apply
        }
    }
}
