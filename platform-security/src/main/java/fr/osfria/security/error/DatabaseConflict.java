package fr.osfria.security.error;

/**
 * Recognises a statement PostgreSQL ended to break a deadlock or a serialization conflict: it applied nothing, and
 * the same statement may simply run again (two replicas taking in the same events after a rebalance, two writers
 * meeting on the same rows). Matched by class name, as {@link DatabaseUnavailable} is.
 */
public final class DatabaseConflict {

    /** Whether {@code failure}, or one of its causes, is such an ending (SQLSTATE 40P01 or 40001). */
    public static boolean ended(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t.getClass().getName().equals("io.vertx.pgclient.PgException")) {
                String state = DatabaseUnavailable.sqlState(t);
                if ("40P01".equals(state) || "40001".equals(state)) {
                    return true;
                }
            }
        }
        return false;
    }

    private DatabaseConflict() {
    }
}
