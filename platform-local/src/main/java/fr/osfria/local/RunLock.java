package fr.osfria.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * {@code <data>/lock}: one {@code ./osfria up} per data directory. The running launcher holds an operating-system
 * lock on the file for its whole life, so that of two launchers started at the same moment exactly one gets it (a
 * check of {@code osfria.run} followed by a write could let both through, and both would start a broker and a
 * PostgreSQL on the same data). The system releases the lock when the launcher dies, even by SIGKILL. The file holds
 * the holder's pid, for the other launcher's refusal.
 */
final class RunLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static Path path(Path dataDir) {
        return dataDir.resolve("lock");
    }

    /**
     * The data directory for this launcher alone: its lock ({@link #acquire}), and no process of an earlier launcher
     * still running on it (one killed by SIGKILL leaves its children, {@link ChildRecords}). The lock is released if
     * refused, so that a launcher living on after the refusal holds nothing.
     */
    static RunLock claim(Path dataDir) {
        RunLock lock = acquire(dataDir);
        Map<String, ProcessHandle> left = ChildRecords.running(dataDir);
        if (!left.isEmpty()) {
            lock.close();
            throw new LocalPlatformException("processes of an earlier ./osfria up still run on " + dataDir
                    + ", without their launcher (was it killed?): " + PlatformCommands.describe(left)
                    + ". ./osfria down stops them.");
        }
        return lock;
    }

    /** Takes the lock and writes this process's pid in it; refuses, naming the holder, when another launcher has it. */
    static RunLock acquire(Path dataDir) {
        Path file = path(dataDir);
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = tryLock(channel);
            if (lock == null) {
                channel.close();
                throw new LocalPlatformException("Osfria already runs on " + dataDir + " (launcher pid " + holder(dataDir)
                        + RunFile.read(dataDir).map(r -> ", " + r.url()).orElse("")
                        + "). ./osfria status shows it, ./osfria down stops it.");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            channel.force(false);
            return new RunLock(channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new LocalPlatformException("cannot lock " + file + ": " + e.getMessage(), e);
        }
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null; // this very JVM holds it already
        }
    }

    /** The pid the lock file names (the running launcher's), or "unknown" if it is still not written after a second. */
    static String holder(Path dataDir) {
        for (int i = 0; i < 10; i++) {
            String pid = written(dataDir);
            if (!pid.equals("unknown")) {
                return pid;
            }
            try {
                Thread.sleep(100); // the holder took the lock an instant ago and is writing its pid
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return "unknown";
    }

    private static String written(Path dataDir) {
        try {
            String pid = Files.readString(path(dataDir), StandardCharsets.US_ASCII).trim();
            return pid.matches("\\d+") ? pid : "unknown";
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing held any more
            }
        }
    }
}
