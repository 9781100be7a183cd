package fr.osfria.router.balance;

/**
 * Caps retries at a fraction of recent requests (plus a small floor), over a sliding 10-second window of one-second
 * buckets. When a whole pool fails, retries stop at the budget instead of multiplying the load on it.
 */
public final class RetryBudget {

    private static final int SECONDS = 10;
    private final double ratio;
    private final int minPerSecond;
    private final long[] requests = new long[SECONDS];
    private final long[] retries = new long[SECONDS];
    private final long[] bucketSecond = new long[SECONDS];

    public RetryBudget(double ratio, int minPerSecond) {
        this.ratio = ratio;
        this.minPerSecond = minPerSecond;
    }

    public synchronized void request(long nowMillis) {
        requests[bucket(nowMillis)]++;
    }

    /** Takes one retry from the budget if there is one left. */
    public synchronized boolean tryRetry(long nowMillis) {
        int current = bucket(nowMillis);
        long second = nowMillis / 1000;
        long req = 0;
        long ret = 0;
        for (int i = 0; i < SECONDS; i++) {
            if (second - bucketSecond[i] < SECONDS) {
                req += requests[i];
                ret += retries[i];
            }
        }
        if (ret >= (long) (minPerSecond * SECONDS + ratio * req)) {
            return false;
        }
        retries[current]++;
        return true;
    }

    private int bucket(long nowMillis) {
        long second = nowMillis / 1000;
        int i = (int) (second % SECONDS);
        if (bucketSecond[i] != second) {
            bucketSecond[i] = second;
            requests[i] = 0;
            retries[i] = 0;
        }
        return i;
    }
}
