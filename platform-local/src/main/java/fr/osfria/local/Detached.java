package fr.osfria.local;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code osfria up --detach}: the launcher runs as a background process of its own session (no Ctrl-C nor hang-up
 * of this terminal reaches it). Its progress comes back through a pipe until the platform is up, then that pipe is
 * closed and the command returns; from then on the launcher writes to {@code <data>/logs/osfria.log}. The admin key
 * of a first start goes through the pipe only: it is never written to a log.
 */
final class Detached {

    /** Set in the background launcher's environment. */
    static final String CHILD_ENV = "OSFRIA_DETACHED_CHILD";

    private static PrintStream terminal;
    private static volatile boolean attached = true;

    private Detached() {
    }

    /** Starts the background launcher and relays its progress; its exit code when it stopped, else 0. */
    static int start(LocalSettings settings, boolean verbose, PrintStream out) {
        RunFile.running(settings.dataDir()).ifPresent(running -> {
            throw new LocalPlatformException("Osfria already runs on " + settings.dataDir() + " (launcher pid "
                    + running.pid() + "). ./osfria status shows it, ./osfria down stops it.");
        });
        if (verbose) {
            out.println("(--verbose has no effect with --detach: every part logs to " + LogFile.path(settings.dataDir(),
                    "x").getParent() + ")");
        }
        Path log = LogFile.path(settings.dataDir(), "osfria");
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            command.add("/usr/bin/setsid"); // a session of its own: the terminal's signals stay here
        }
        command.addAll(List.of(ChildProcess.java(), "-Dosfria.home=" + settings.home(), "-jar",
                settings.home().resolve("platform-local/target/platform-local.jar").toString(), "up"));
        Process process;
        try {
            Files.createDirectories(log.getParent());
            LogFile.ownerOnly(log.getParent(), "rwx------");
            if (!Files.exists(log)) {
                Files.createFile(log);
            }
            LogFile.ownerOnly(log, "rw-------");
            ProcessBuilder builder = new ProcessBuilder(command).directory(settings.home().toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().put(CHILD_ENV, "true");
            process = builder.start();
        } catch (IOException e) {
            throw new LocalPlatformException("cannot start Osfria in the background: " + e.getMessage(), e);
        }
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                out.println(line);
            }
        } catch (IOException e) {
            // the launcher closed its side
        }
        try {
            if (process.waitFor(2, TimeUnit.SECONDS)) {
                return process.exitValue() == 0 ? 1 : process.exitValue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.println("Osfria runs in the background (launcher pid " + process.pid() + "); its log: " + log);
        return 0;
    }

    /**
     * In the background launcher: what it prints goes to its log and, until {@link #detach}, through the pipe to the
     * command that started it. Errors too.
     */
    static PrintStream childOutput(LocalSettings settings) {
        terminal = System.out;
        LogFile log = LogFile.of(settings.dataDir(), "osfria");
        PrintStream both = new PrintStream(new OutputStream() {
            private final ByteArrayOutputStream line = new ByteArrayOutputStream();

            @Override
            public synchronized void write(int b) {
                if (b != '\n') {
                    line.write(b);
                    return;
                }
                String text = line.toString(StandardCharsets.UTF_8);
                line.reset();
                log.line(text);
                if (attached) {
                    terminal.println(text);
                }
            }
        }, true, StandardCharsets.UTF_8);
        System.setErr(both);
        return both;
    }

    /** The pipe to the starting command (terminal-only lines: the admin key). */
    static PrintStream terminal() {
        return attached ? terminal : new PrintStream(OutputStream.nullOutputStream());
    }

    /** The platform is up: the starting command gets its end of file and returns. */
    static void detach(PrintStream out) {
        out.flush();
        attached = false;
        terminal.close();
    }
}
