package fr.osfria.local;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The platform's data directory, {@code OSFRIA_DATA}: writable, and readable by its owner only. It holds the broker's
 * log (files sent inline by Kafka applications stay there in clear until their retention ends), the database, the
 * index, the keys and the TLS material: another user of the machine must not read any of it.
 */
final class DataDirectory {

    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    /** Creates {@code dir} if needed, makes it owner-only (saying so when it was not) and checks it is writable. */
    static void prepare(Path dir, PrintStream out) {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".write", ".probe");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new LocalPlatformException("the data directory " + dir + " is not writable (" + e.getMessage()
                    + "); set OSFRIA_DATA to a directory you can write");
        }
        try {
            Set<PosixFilePermission> now = Files.getPosixFilePermissions(dir);
            if (!now.equals(OWNER_ONLY)) {
                Files.setPosixFilePermissions(dir, OWNER_ONLY);
                out.println("The data directory " + dir + " was " + PosixFilePermissions.toString(now)
                        + ": now rwx------ (it holds documents, keys and the database)");
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: its own access rules apply
        } catch (IOException | SecurityException e) {
            out.println("Warning: the data directory " + dir + " could not be made readable by its owner only ("
                    + e.getMessage() + "): other users of this machine may read documents and keys there");
        }
    }

    private DataDirectory() {
    }
}
