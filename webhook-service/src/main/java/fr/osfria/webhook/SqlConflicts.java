package fr.osfria.webhook;

/**
 * PostgreSQL ended a statement to break a deadlock (or a serialization conflict): it applied nothing, and the same
 * statement may simply run again. Two replicas' intakes of the same events after a rebalance, or an outcome write
 * meeting another writer, can meet that way.
 */
public final class SqlConflicts {

    private SqlConflicts() {
    }

    public static boolean ended(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof io.vertx.pgclient.PgException pg
                    && ("40P01".equals(pg.getSqlState()) || "40001".equals(pg.getSqlState()))) {
                return true;
            }
        }
        return false;
    }
}
