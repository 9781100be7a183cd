package fr.osfria.local;

import fr.osfria.security.key.KeyEntry;
import fr.osfria.security.key.KeyFile;
import fr.osfria.security.key.KeysCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code osfria keys …}: platform-security's keys tool on this platform's key file, plus the broker side of a Kafka
 * application's key ({@code --kafka}): its credentials and ACLs are made on the running platform's broker (they
 * live in the broker's metadata, and its password is shown once), and removed on {@code revoke}, at once if the
 * platform runs, otherwise at the next {@code up} ({@link #reconcile}). With {@code --file} (a Kubernetes overlay's
 * key file) {@code --kafka} makes the key only: there the broker side is the application's Strimzi KafkaUser.
 */
final class KeysCommand {

    private final LocalSettings settings;
    private final PrintStream out;
    private final PrintStream err;

    KeysCommand(LocalSettings settings, PrintStream out, PrintStream err) {
        this.settings = settings;
        this.out = out;
        this.err = err;
    }

    int run(List<String> args) {
        boolean kafkaCreate = !args.isEmpty() && args.contains("create") && args.contains("--kafka");
        boolean revoke = args.contains("revoke");
        if (!kafkaCreate && !revoke) {
            return KeysCli.run(args.toArray(String[]::new), settings.keysFile().toString(), out, err);
        }
        if (kafkaCreate && args.contains("--file")) {
            // another key file, a Kubernetes overlay's: the key only; the broker side there is the application's
            // KafkaUser, whose password Strimzi makes (the local broker's applications are the platform's own keys)
            int code = KeysCli.run(args.toArray(String[]::new), settings.keysFile().toString(), out, err);
            if (code == 0) {
                out.println("# Kafka: no broker credentials for another key file. In Kubernetes, declare the "
                        + "application's KafkaUser (k8s/README.md, \"Kafka applications\").");
            }
            return code;
        }
        Optional<RunFile> running = RunFile.read(settings.dataDir()).filter(r -> r.launcher().isPresent());
        if (kafkaCreate && running.isEmpty()) {
            err.println("keys: --kafka needs the running platform (its broker keeps the application's credentials): "
                    + "start it with ./osfria up --detach, then run this again. Nothing was changed.");
            return 1;
        }
        Optional<String> ca = kafkaCreate ? Optional.of(trustedCa()) : Optional.empty(); // checked before any change
        Set<String> before = kafkaNames(false);
        Set<String> activeBefore = kafkaNames(true);
        ByteArrayOutputStream keyOut = new ByteArrayOutputStream();
        int code = KeysCli.run(args.toArray(String[]::new), settings.keysFile().toString(),
                new PrintStream(keyOut, true, StandardCharsets.UTF_8), err);
        String printed = keyOut.toString(StandardCharsets.UTF_8);
        if (code != 0) {
            out.print(printed);
            return code;
        }
        if (kafkaCreate) {
            // the name this command created (another command may have created one meanwhile)
            String name = kafkaNames(false).stream().filter(n -> !before.contains(n)).filter(args::contains)
                    .findFirst().orElseThrow();
            try (KafkaApplications apps = new KafkaApplications("127.0.0.1:" + running.get().kafkaPort())) {
                String password = apps.create(name);
                out.print(printed);
                out.println(KafkaApplications.clientSettings(name, settings.kafkaAppsBootstrap(), password, ca.orElseThrow()));
                return 0;
            } catch (LocalPlatformException e) {
                // no key without its credentials: the key just made is revoked again
                KeysCli.run(new String[]{"revoke", name}, settings.keysFile().toString(), new PrintStream(
                        new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), err);
                err.println("keys: " + e.getMessage() + "; the key was revoked again.");
                return 1;
            }
        }
        out.print(printed);
        Set<String> revoked = activeBefore.stream().filter(n -> !kafkaNames(true).contains(n)).collect(Collectors.toSet());
        for (String name : revoked) {
            if (running.isEmpty()) {
                out.println("Its Kafka credentials, ACLs and topics are removed from the broker at the next ./osfria up.");
                continue;
            }
            try (KafkaApplications apps = new KafkaApplications("127.0.0.1:" + running.get().kafkaPort())) {
                apps.revoke(name);
                out.println("Kafka credentials, ACLs and topics of '" + name + "' removed from the broker.");
            } catch (LocalPlatformException e) {
                err.println("keys: " + e.getMessage() + "; they are removed at the next ./osfria up.");
                return 1;
            }
        }
        return 0;
    }

    /**
     * The platform's CA for the printed settings, once it is known that the listener's certificate names the address
     * they print: this command run with other variables than the {@code up} that made the certificate would print an
     * address that fails the client's host name check.
     */
    private String trustedCa() {
        KafkaAppsTls tls = KafkaAppsTls.of(settings);
        String ca = tls.caPem();
        if (!tls.certifies(settings.advertisedHost())) {
            throw new LocalPlatformException("the Kafka listener's certificate does not name "
                    + settings.advertisedHost() + ": run this with the OSFRIA_KAFKA_APPS_HOSTNAMES and OSFRIA_BIND "
                    + "the platform was started with, or restart it with these. Nothing was changed.");
        }
        return ca;
    }

    /**
     * At {@code up}, once the broker is ready: removes the credentials and ACLs of Kafka applications revoked while
     * the platform was down (revoking again one removed already changes nothing), and gives the active ones the
     * input topics and ACLs of this version (an application created before {@code events.v1} existed gets it).
     */
    static void reconcile(LocalSettings settings, PrintStream out) {
        List<KeyEntry> applications = KeyFile.readOrEmpty(settings.keysFile()).stream()
                .filter(KeyEntry::kafkaApplication).toList();
        if (applications.isEmpty()) {
            return;
        }
        try (KafkaApplications apps = new KafkaApplications(settings.kafkaBootstrap())) {
            for (KeyEntry app : applications) {
                if (app.revoked()) {
                    apps.revoke(app.name());
                } else {
                    apps.complete(app.name());
                }
            }
        } catch (LocalPlatformException e) {
            out.println("osfria: " + e.getMessage() + " (tried again at the next start)");
        }
    }

    private Set<String> kafkaNames(boolean activeOnly) {
        return KeyFile.readOrEmpty(settings.keysFile()).stream()
                .filter(KeyEntry::kafkaApplication).filter(k -> !activeOnly || !k.revoked())
                .map(KeyEntry::name).collect(Collectors.toSet());
    }
}
