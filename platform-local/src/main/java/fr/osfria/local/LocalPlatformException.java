package fr.osfria.local;

/** A problem the person starting the platform can fix; its message says how. */
public class LocalPlatformException extends RuntimeException {
    public LocalPlatformException(String message) {
        super(message);
    }

    public LocalPlatformException(String message, Throwable cause) {
        super(message, cause);
    }
}
