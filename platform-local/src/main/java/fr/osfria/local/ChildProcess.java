package fr.osfria.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A JVM child process whose output is handed on line by line (to its log file, or the terminal), and which dies with the platform. */
public final class ChildProcess implements Supervisor.Child {

    private final String name;
    private final Process process;

    private ChildProcess(String name, Process process) {
        this.name = name;
        this.process = process;
    }

    /** Starts a child whose lines go to the terminal behind its name (today's {@code --verbose} view). */
    public static ChildProcess start(String name, List<String> command, Map<String, String> env, Path workDir, PrintStream out,
                              String color) {
        return start(name, command, env, workDir, terminal(name, out, color));
    }

    /** Each line of a child, behind its coloured name, for the terminal. */
    public static Consumer<String> terminal(String name, PrintStream out, String color) {
        String prefix = color + String.format("%-16s", "[" + name + "]") + "\u001B[0m ";
        return line -> out.println(prefix + line);
    }

    /** Starts a child; each line it prints (stdout and stderr) goes to {@code lines}. */
    public static ChildProcess start(String name, List<String> command, Map<String, String> env, Path workDir,
                                     Consumer<String> lines) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(workDir.toFile());
        builder.environment().putAll(env);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new LocalPlatformException("cannot start " + name + ": " + e.getMessage(), e);
        }
        Thread pump = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    lines.accept(line);
                }
            } catch (IOException e) {
                // the process is gone; its exit is reported by whoever waits for it
            }
        }, "log-" + name);
        pump.setDaemon(true);
        pump.start();
        return new ChildProcess(name, process);
    }

    public String name() {
        return name;
    }

    public boolean alive() {
        return process.isAlive();
    }

    public Process process() {
        return process;
    }

    @Override
    public ProcessHandle handle() {
        return process.toHandle();
    }

    @Override
    public String exitStatus() {
        return process.isAlive() ? null : "code " + process.exitValue();
    }

    /** Asks the process (and anything it started) to stop, then forces it after {@code graceSeconds}. */
    public void stop(int graceSeconds) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        descendants.forEach(ProcessHandle::destroyForcibly);
    }

    public static String java() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
