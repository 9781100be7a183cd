package fr.osfria.router.balance;

import fr.osfria.router.backend.Backend;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks a backend among candidates that all serve the model and have room.
 *
 * <p>Least-loaded uses two random choices and takes the less loaded: nearly as good as scanning every backend, and
 * it avoids the herd that "always the least loaded" causes when load figures are a probe old. Affinity ranks
 * backends by rendezvous hashing of the key, so a user or session keeps hitting the same KV cache, and passes over
 * a backend whose load is above {@code loadBound} times the mean (plus one): a hot key spills over instead of
 * overloading its backend.
 */
public final class Balancer {

    private final boolean affinity;
    private final double loadBound;

    public Balancer(boolean affinity, double loadBound) {
        this.affinity = affinity;
        this.loadBound = loadBound;
    }

    public Backend choose(List<Backend> candidates, String affinityKey) {
        if (candidates.isEmpty()) {
            return null;
        }
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        if (affinity && affinityKey != null) {
            Backend affine = affine(candidates, affinityKey);
            if (affine != null) {
                return affine;
            }
        }
        return powerOfTwo(candidates);
    }

    static Backend powerOfTwo(List<Backend> candidates) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int n = candidates.size();
        int i = random.nextInt(n);
        int j = random.nextInt(n - 1);
        if (j >= i) {
            j++;
        }
        Backend a = candidates.get(i);
        Backend b = candidates.get(j);
        return b.load() < a.load() ? b : a;
    }

    private Backend affine(List<Backend> candidates, String key) {
        long total = 0;
        for (Backend b : candidates) {
            total += b.load();
        }
        double bound = loadBound * total / candidates.size() + 1;
        long keyHash = hash(key.getBytes(StandardCharsets.UTF_8), 0x9E3779B97F4A7C15L);
        Backend best = null;
        long bestScore = 0;
        // highest rendezvous score among backends under the bound; scores are stable as backends come and go
        for (Backend b : candidates) {
            if (b.load() > bound) {
                continue;
            }
            long score = mix(keyHash ^ hash(b.id().getBytes(StandardCharsets.UTF_8), 0xC2B2AE3D27D4EB4FL));
            if (best == null || Long.compareUnsigned(score, bestScore) > 0) {
                best = b;
                bestScore = score;
            }
        }
        return best;
    }

    private static long hash(byte[] bytes, long seed) {
        long h = seed;
        for (byte x : bytes) {
            h = (h ^ x) * 0x100000001B3L;
        }
        return mix(h);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
