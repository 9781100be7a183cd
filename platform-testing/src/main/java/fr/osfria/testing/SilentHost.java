package fr.osfria.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server of this machine reached as if on a host of its own, whose network link a test can cut without a word: no
 * reset, nothing refused, packets simply lost, as when the server's node loses power or a switch fails. A process on
 * loopback cannot do that (its kernel acknowledges every byte), so the host is a network namespace joined to this
 * one by a veth pair; for each server, a forwarder in it passes connections on to the server's loopback port through
 * a second forwarder on this side. {@link #silence} takes the namespace's end of the link down; {@link #restore}
 * brings it up.
 *
 * <p>Needs root (network namespaces) and iproute2's {@code ip}. Without them {@link #reach} answers null and the
 * tests that need a silent host are skipped, but under {@code CI=true} it fails: CI has both. The state lives in
 * system properties, seen by every class loader of the test JVM (Quarkus asks a profile for its settings more than
 * once, from more than one): one host per JVM, removed when the JVM ends.
 */
public final class SilentHost {

    private static final String NAMESPACE = "osfria-silent-";
    /** "namespace link address-here address-there" of this JVM's host, once made. */
    private static final String HOST = "osfria.test.silent-host";
    /** Set for each server port the host forwards. */
    private static final String FORWARDED = "osfria.test.silent-host.forwarded.";

    /**
     * "address:port" at which the server listening on 127.0.0.1:{@code port} is reached through the host's link, or
     * null where this machine cannot make one (and {@code CI} is not "true"). The port is the server's own.
     */
    public static String reach(int port) {
        // a string literal is one object for every class loader of the JVM (they share the interned strings): two of
        // them must not make two hosts; the file lock keeps two test JVMs (-T2) from taking the same subnet
        synchronized (HOST) {
            try (FileChannel file = FileChannel.open(Path.of(System.getProperty("java.io.tmpdir"), "osfria-silent-host.lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE); FileLock lock = file.lock()) {
                return reachOnce(port);
            } catch (IOException e) {
                return unavailable(e);
            }
        }
    }

    private static String unavailable(Exception e) {
        if ("true".equals(System.getenv("CI"))) {
            throw new IllegalStateException("CI=true: a test host in a network namespace could not be made (root"
                    + " and iproute2's ip are needed): " + e.getMessage(), e);
        }
        return null;
    }

    /** Whether a test's server is reached through the host: its tests can silence it. */
    public static boolean inUse() {
        return System.getProperties().stringPropertyNames().stream().anyMatch(name -> name.startsWith(FORWARDED));
    }

    private static String reachOnce(int port) {
        try {
            String[] host = host();
            if (System.getProperty(FORWARDED + port) == null) {
                int middle = Ports.free();
                forwarder(List.of(), host[2], middle, "127.0.0.1", port);
                forwarder(List.of("ip", "netns", "exec", host[0]), host[3], port, host[2], middle);
                System.setProperty(FORWARDED + port, "true");
            }
            return host[3] + ":" + port;
        } catch (IOException | RuntimeException e) {
            return unavailable(e);
        }
    }

    /** Cuts the host's link: from now on every packet between it and this machine is lost. */
    public static void silence() {
        setLink("down");
    }

    /** Brings the link back: connections made from now on reach the servers again. */
    public static void restore() {
        setLink("up");
    }

    private static void setLink(String state) {
        String[] host = System.getProperty(HOST).split(" ");
        try {
            run("ip", "netns", "exec", host[0], "ip", "link", "set", host[1], state);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** This JVM's host, made on first use: its namespace, its end of the link, this side's address and its own. */
    private static String[] host() throws IOException {
        String known = System.getProperty(HOST);
        if (known != null) {
            return known.split(" ");
        }
        removeLeftOvers();
        long pid = ProcessHandle.current().pid();
        String namespace = NAMESPACE + pid;
        String link = "osfs" + (pid % 1_000_000);
        try {
            int subnet = freeSubnet();
            String here = "10.213." + subnet + ".1";
            String there = "10.213." + subnet + ".2";
            run("ip", "netns", "add", namespace);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> quietly("ip", "netns", "del", namespace)));
            run("ip", "link", "add", link + "h", "type", "veth", "peer", "name", link + "n");
            run("ip", "link", "set", link + "n", "netns", namespace);
            run("ip", "addr", "add", here + "/30", "dev", link + "h");
            run("ip", "link", "set", link + "h", "up");
            run("ip", "netns", "exec", namespace, "ip", "addr", "add", there + "/30", "dev", link + "n");
            run("ip", "netns", "exec", namespace, "ip", "link", "set", link + "n", "up");
            run("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up");
            String made = namespace + " " + link + "n " + here + " " + there;
            System.setProperty(HOST, made);
            return made.split(" ");
        } catch (IOException | RuntimeException e) {
            quietly("ip", "link", "del", link + "h");
            quietly("ip", "netns", "del", namespace);
            throw e;
        }
    }

    /** The namespaces of test JVMs that ended without removing theirs (killed): their veth pairs go with them. */
    private static void removeLeftOvers() throws IOException {
        for (String line : run("ip", "netns", "list").split("\n")) {
            String name = line.split(" ")[0];
            if (name.startsWith(NAMESPACE)) {
                long pid = Long.parseLong(name.substring(NAMESPACE.length()));
                if (ProcessHandle.of(pid).isEmpty()) {
                    quietly("ip", "netns", "del", name);
                }
            }
        }
    }

    /** A third number for 10.213.x.0/30 that no address or route of this machine uses (under the file lock). */
    private static int freeSubnet() throws IOException {
        String addresses = run("ip", "-o", "-4", "addr") + run("ip", "-4", "route");
        long pid = ProcessHandle.current().pid();
        for (int i = 0; i < 256; i++) {
            int subnet = (int) ((pid + i) % 256);
            if (!addresses.contains("10.213." + subnet + ".")) {
                return subnet;
            }
        }
        throw new IOException("no free 10.213.x.0/30 subnet");
    }

    /** Starts a {@link TcpForwarder} (under {@code prefix}), ended with this JVM; returns once it listens. */
    private static void forwarder(List<String> prefix, String host, int port, String targetHost, int targetPort)
            throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx32m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classPath(), TcpForwarder.class.getName(), host,
                String.valueOf(port), targetHost, String.valueOf(targetPort),
                String.valueOf(ProcessHandle.current().pid())));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"ready".equals(line)) {
            process.destroyForcibly();
            throw new IOException("the forwarder did not start: " + line);
        }
    }

    /** Where this class was loaded from: the forwarder is in the same place. */
    private static String classPath() {
        var source = TcpForwarder.class.getProtectionDomain().getCodeSource();
        if (source != null && source.getLocation() != null) {
            try {
                return Path.of(source.getLocation().toURI()).toString();
            } catch (java.net.URISyntaxException | IllegalArgumentException e) {
                // not a file: the JVM's own class path has it
            }
        }
        return System.getProperty("java.class.path");
    }

    private static String run(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output.strip());
            }
            return output;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static void quietly(String... command) {
        try {
            run(command);
        } catch (IOException e) {
            // nothing to remove
        }
    }

    private SilentHost() {
    }
}
