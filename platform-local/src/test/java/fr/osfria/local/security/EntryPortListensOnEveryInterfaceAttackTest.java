package fr.osfria.local.security;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fr.osfria.local.EntryProxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A machine on the same network tries the developer's entry port. By default the port must listen on loopback only,
 * as the kernel's own socket table shows; {@code OSFRIA_BIND=0.0.0.0} is the explicit way to open it.
 */
class EntryPortListensOnEveryInterfaceAttackTest {

    @Test
    void byDefaultTheEntryPortListensOnLoopbackOnly() throws Exception {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "needs Linux's /proc/net/tcp");
        try (StandInServices services = new StandInServices(Set.of(), Set.of())) {
            EntryProxy proxy = new EntryProxy(services.settings(Map.of()));
            proxy.start();
            try {
                List<String> listening = listeningAddresses(services.entryPort);
                assertFalse(listening.isEmpty(), "nothing listens on the entry port");
                assertTrue(listening.stream().allMatch(EntryPortListensOnEveryInterfaceAttackTest::loopback),
                        "the entry port listens beyond loopback: " + listening);
            } finally {
                proxy.close();
            }

            // the check sees the difference: asked for every interface, it listens on every interface
            EntryProxy open = new EntryProxy(services.settings(Map.of("OSFRIA_BIND", "0.0.0.0")));
            open.start();
            try {
                List<String> listening = listeningAddresses(services.entryPort);
                assertTrue(listening.stream().anyMatch(a -> !loopback(a)), "OSFRIA_BIND=0.0.0.0 ignored: " + listening);
            } finally {
                open.close();
            }
        }
    }

    /** Local addresses (kernel hex notation) of sockets in LISTEN state on {@code port}, IPv4 and IPv6. */
    private static List<String> listeningAddresses(int port) throws IOException {
        String hexPort = String.format(Locale.ROOT, "%04X", port);
        List<String> addresses = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path file = Path.of(table);
            if (!Files.isReadable(file)) {
                continue;
            }
            for (String line : Files.readAllLines(file)) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length > 3 && fields[1].endsWith(":" + hexPort) && fields[3].equals("0A")) {
                    addresses.add(fields[1].substring(0, fields[1].indexOf(':')));
                }
            }
        }
        return addresses;
    }

    /** 127.0.0.0/8 (little-endian: last byte 7F), ::1, or 127.x mapped into IPv6. */
    private static boolean loopback(String hex) {
        if (hex.length() == 8) {
            return hex.endsWith("7F");
        }
        return hex.equals("00000000000000000000000001000000")
                || (hex.startsWith("0000000000000000FFFF0000") && hex.endsWith("7F"));
    }
}
