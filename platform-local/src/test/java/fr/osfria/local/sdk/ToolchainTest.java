package fr.osfria.local.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** ClientSdksIT never passes by skipping under CI=true: a missing or too old python3/node fails there. */
class ToolchainTest {

    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)");

    @Test
    void aMissingToolSkipsOnAWorkstationAndFailsUnderCi() {
        List<String> missing = List.of("osfria-no-such-tool-on-the-path", "--version");
        assertThrows(TestAbortedException.class, () -> Toolchain.require("python3", missing, VERSION, 3, 9, false));
        assertThrows(AssertionFailedError.class, () -> Toolchain.require("python3", missing, VERSION, 3, 9, true));
    }

    @Test
    void aTooOldVersionIsRefusedAndARecentOneAccepted() {
        List<String> old = List.of("echo", "3.8");
        assertThrows(AssertionFailedError.class, () -> Toolchain.require("python3", old, VERSION, 3, 9, true));
        assertEquals("echo", Toolchain.require("python3", List.of("echo", "3.10"), VERSION, 3, 9, true));
        assertEquals("echo", Toolchain.require("node", List.of("echo", "v20.1.0"), VERSION, 18, 0, true));
    }
}
