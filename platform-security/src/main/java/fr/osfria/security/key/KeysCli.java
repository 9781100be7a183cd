package fr.osfria.security.key;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * {@code keys create|list|revoke}: writes the key registry file. The clear key is printed once, at creation,
 * and exists nowhere else.
 */
public final class KeysCli {

    static final String USAGE = """
            usage: keys [--file PATH] create NAME [--roles admin,ops,user] [--read COLLECTIONS] [--write COLLECTIONS]
                                                [--departments DEPTS] [--confidential]
                                                [--daily-tokens N] [--monthly-tokens N]
                                                [--requests-per-minute N] [--tokens-per-minute N]
                                                [--kafka [--event-types TYPES] [--fetch-from URL_PREFIXES]]
                   keys [--file PATH] list
                   keys [--file PATH] event-types NAME TYPES
                   keys [--file PATH] revoke NAME
              Lists are comma-separated; '*' means all. Roles: user (default), ops (model.* and alert.*
              webhooks), admin (everything). The file defaults to $OSFRIA_KEYS_FILE.
              --kafka: the key of an internal application that writes to Kafka (docs/kafka-api.md); NAME is then
              its topic component, osfria.app.NAME.*: 1-40 lowercase letters, digits or '-'. Through ./osfria,
              the running platform's broker also gets its SCRAM-SHA-512 credentials and ACLs, printed once.
              --event-types: the event types the application may publish on osfria.app.NAME.events.v1, without
              their prefix (invoice.created is published as app.NAME.invoice.created): lowercase words of letters,
              digits or '-' joined by '.', at most 50 characters each. 'event-types NAME TYPES' replaces them
              ('' for none); running services pick the change up within seconds.
              --fetch-from: the URL prefixes the application may have files fetched from (file_url), e.g.
              https://files.billing.internal/exports/ (scheme, host[:port], path prefix matched on whole path
              segments); none by default. Hosts must also be on ingest-service's fetch allow-list.""";

    /** A Kafka application's name: a safe component of its topic names {@code osfria.app.NAME.*}. */
    public static final java.util.regex.Pattern APPLICATION_NAME = java.util.regex.Pattern.compile("[a-z0-9-]{1,40}");

    /** Refuses a name that cannot be a Kafka application's topic component, saying what one is. */
    public static void checkApplicationName(String name) {
        if (name == null || !APPLICATION_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("with --kafka, NAME is the application's topic component "
                    + "(osfria.app.NAME.*): 1-40 lowercase letters, digits or '-'");
        }
    }

    /** A declared event type, without its {@code app.NAME.} prefix: no ',', '%' or '_' (subscriptions list types). */
    public static final java.util.regex.Pattern EVENT_TYPE = java.util.regex.Pattern.compile(
            "[a-z0-9][a-z0-9-]*(\\.[a-z0-9][a-z0-9-]*)*");
    static final int EVENT_TYPE_MAX_CHARS = 50;
    static final int EVENT_TYPES_MAX = 100;

    /** The declared event types in {@code csv}, checked. */
    static List<String> eventTypes(String csv) {
        List<String> types = list(csv);
        if (types.size() > EVENT_TYPES_MAX) {
            throw new IllegalArgumentException("at most " + EVENT_TYPES_MAX + " event types");
        }
        for (String t : types) {
            if (t.length() > EVENT_TYPE_MAX_CHARS || !EVENT_TYPE.matcher(t).matches()) {
                throw new IllegalArgumentException("event type '" + t + "': lowercase words of letters, digits or '-' "
                        + "joined by '.', at most " + EVENT_TYPE_MAX_CHARS + " characters, without the app.NAME. prefix");
            }
        }
        return types;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.getenv("OSFRIA_KEYS_FILE"), System.out, System.err));
    }

    /** Runs one command; returns the process exit code (0 ok, 1 refused, 2 usage). */
    public static int run(String[] args, String defaultFile, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        String file = takeOption(rest, "--file");
        if (file == null) {
            file = defaultFile;
        }
        if (rest.isEmpty() || file == null || file.isBlank()) {
            err.println(rest.isEmpty() ? USAGE : "no key file: pass --file PATH or set OSFRIA_KEYS_FILE");
            return 2;
        }
        Path path = Path.of(file);
        try {
            return switch (rest.remove(0)) {
                case "create" -> create(path, rest, out, err);
                case "list" -> list(path, out);
                case "revoke" -> revoke(path, rest, out, err);
                case "event-types" -> setEventTypes(path, rest, out, err);
                default -> {
                    err.println(USAGE);
                    yield 2;
                }
            };
        } catch (IllegalArgumentException e) {
            err.println("keys: " + e.getMessage());
            return 2;
        } catch (KeyFile.InvalidKeyFileException e) {
            err.println("keys: " + e.getMessage() + " (nothing was changed)");
            return 1;
        } catch (IOException e) {
            err.println("keys: cannot write " + path + ": " + e.getMessage());
            return 1;
        }
    }

    /** Creates a key and returns it in clear; used by the CLI and by the local platform's first start. */
    public static String create(Path file, KeyEntry template) throws IOException {
        return KeyFile.update(file, keys -> {
            if (keys.stream().anyMatch(k -> k.name().equals(template.name()))) {
                throw new IllegalArgumentException("a key named '" + template.name() + "' exists already");
            }
            String key = ApiKeys.generate();
            keys.add(new KeyEntry(template.name(), ApiKeys.hash(key), ApiKeys.hint(key), template.roles(),
                    template.readCollections(), template.writeCollections(), template.departments(),
                    template.confidential(), template.dailyTokens(), template.monthlyTokens(),
                    template.requestsPerMinute(), template.tokensPerMinute(), Instant.now(), null, template.kafka(),
                    template.eventTypes(), template.fetchFrom()));
            return key;
        });
    }

    private static int create(Path file, List<String> args, PrintStream out, PrintStream err) throws IOException {
        String roles = takeOption(args, "--roles");
        String read = takeOption(args, "--read");
        String write = takeOption(args, "--write");
        String departments = takeOption(args, "--departments");
        Long daily = takeLong(args, "--daily-tokens");
        Long monthly = takeLong(args, "--monthly-tokens");
        Long rpm = takeLong(args, "--requests-per-minute");
        Long tpm = takeLong(args, "--tokens-per-minute");
        boolean confidential = args.remove("--confidential");
        boolean kafka = args.remove("--kafka");
        String eventTypes = takeOption(args, "--event-types");
        if (eventTypes != null && !kafka) {
            throw new IllegalArgumentException("--event-types is for a Kafka application's key: add --kafka");
        }
        String fetchFrom = takeOption(args, "--fetch-from");
        if (fetchFrom != null && !kafka) {
            throw new IllegalArgumentException("--fetch-from is for a Kafka application's key: add --kafka");
        }
        List<String> prefixes = list(fetchFrom);
        prefixes.forEach(fr.osfria.security.rights.UrlPrefix::check);
        if (args.size() != 1 || args.get(0).startsWith("--")) {
            throw new IllegalArgumentException("create takes one NAME and known options; got " + args);
        }
        String name = args.get(0);
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")) {
            throw new IllegalArgumentException("a key name is 1-64 letters, digits, '.', '_', '@' or '-'");
        }
        if (kafka) {
            checkApplicationName(name);
        }
        KeyEntry template = new KeyEntry(name, null, null, new LinkedHashSet<>(list(roles == null ? "user" : roles)),
                list(read), list(write), list(departments), confidential, daily, monthly, rpm, tpm, null, null, kafka,
                eventTypes(eventTypes), prefixes);
        String key = create(file, template);
        out.println(key);
        err.println("Key '" + name + "' created. It is shown once: store it now.");
        return 0;
    }

    private static int list(Path file, PrintStream out) {
        out.printf("%-20s %-18s %-12s %-20s %-20s %-16s %-5s %-8s %s%n",
                "NAME", "HINT", "ROLES", "READ", "WRITE", "DEPARTMENTS", "CONF", "STATUS", "KAFKA");
        for (KeyEntry k : KeyFile.readOrEmpty(file)) {
            out.printf("%-20s %-18s %-12s %-20s %-20s %-16s %-5s %-8s %s%n", k.name(), k.hint(), String.join(",", k.roles()),
                    String.join(",", k.readCollections()), String.join(",", k.writeCollections()),
                    String.join(",", k.departments()), k.confidential() ? "yes" : "no", k.revoked() ? "revoked" : "active",
                    k.kafkaApplication() ? "yes" + (k.eventTypes() == null ? "" : " events:" + String.join(",", k.eventTypes()))
                            + (k.fetchFrom() == null ? "" : " fetch-from:" + String.join(",", k.fetchFrom()))
                            : "no");
        }
        return 0;
    }

    /** {@code event-types NAME TYPES}: replaces the event types a Kafka application may publish. */
    private static int setEventTypes(Path file, List<String> args, PrintStream out, PrintStream err) throws IOException {
        if (args.size() != 2) {
            throw new IllegalArgumentException("event-types takes a NAME and the comma-separated TYPES ('' for none)");
        }
        List<String> types = eventTypes(args.get(1));
        String name = args.get(0);
        KeyEntry changed = KeyFile.update(file, keys -> replace(keys, name,
                k -> !k.kafkaApplication() || k.revoked() ? k : k.withEventTypes(types)));
        if (changed == null) {
            err.println("keys: no key named '" + name + "'");
            return 1;
        }
        if (!changed.kafkaApplication() || changed.revoked()) {
            err.println("keys: '" + name + "' is not an active Kafka application's key");
            return 1;
        }
        out.println("Application '" + name + "' may publish: " + (types.isEmpty() ? "no event type"
                : types.stream().map(t -> KeyEntry.eventTypePrefix(name) + t)
                .collect(java.util.stream.Collectors.joining(", "))) + ".");
        return 0;
    }

    private static int revoke(Path file, List<String> args, PrintStream out, PrintStream err) throws IOException {
        if (args.size() != 1) {
            throw new IllegalArgumentException("revoke takes one NAME");
        }
        String name = args.get(0);
        if (KeyFile.update(file, keys -> replace(keys, name, k -> k.revoked() ? k : k.revoke(Instant.now()))) == null) {
            err.println("keys: no key named '" + name + "'");
            return 1;
        }
        out.println("Key '" + name + "' revoked.");
        return 0;
    }

    /** Puts {@code change}'s result in the place of the key named {@code name}; the key as it was, or null if none. */
    private static KeyEntry replace(List<KeyEntry> keys, String name, java.util.function.UnaryOperator<KeyEntry> change) {
        for (int i = 0; i < keys.size(); i++) {
            KeyEntry k = keys.get(i);
            if (k.name().equals(name)) {
                keys.set(i, change.apply(k));
                return k;
            }
        }
        return null;
    }

    private static String takeOption(List<String> args, String option) {
        int i = args.indexOf(option);
        if (i < 0) {
            return null;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        args.remove(i);
        return args.remove(i);
    }

    private static Long takeLong(List<String> args, String option) {
        String value = takeOption(args, option);
        if (value == null) {
            return null;
        }
        try {
            long n = Long.parseLong(value);
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a positive whole number, not '" + value + "'");
        }
    }

    private static List<String> list(String csv) {
        if (csv == null || csv.isBlank()) {
            return List.of();
        }
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).distinct().toList();
    }

    private KeysCli() {
    }
}
