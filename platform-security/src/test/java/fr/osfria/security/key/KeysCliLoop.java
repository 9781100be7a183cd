package fr.osfria.security.key;

import java.io.OutputStream;
import java.io.PrintStream;

/** A child process for {@link KeyFileConcurrentChangesTest}: {@code FILE create|revoke PREFIX COUNT}, one command each. */
public final class KeysCliLoop {

    public static void main(String[] args) {
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        for (int i = 0; i < Integer.parseInt(args[3]); i++) {
            int code = KeysCli.run(new String[] {args[1], args[2] + i}, args[0], quiet, System.err);
            if (code != 0) {
                System.exit(code);
            }
        }
    }

    private KeysCliLoop() {
    }
}
