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

/** A JVM child process whose output is printed line by line behind its name, and which dies with the platform. */
public final class ChildProcess implements Supervisor.Child {

    private final String name;
    private final Process process;

    private ChildProcess(String name, Process process) {
        this.name = name;
        this.process = process;
    }

    public static ChildProcess start(String name, List<String> command, Map<String, String> env, Path workDir, PrintStream out,
                              String color) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(workDir.toFile());
        builder.environment().putAll(env);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new LocalPlatformException("cannot start " + name + ": " + e.getMessage(), e);
        }
        String prefix = color + String.format("%-16s", "[" + name + "]") + "\u001B[0m ";
        Thread pump = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    out.println(prefix + line);
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
