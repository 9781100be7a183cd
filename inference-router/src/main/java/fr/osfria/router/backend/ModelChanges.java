package fr.osfria.router.backend;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The models that appeared on, or vanished from, the pool between two probes. */
public record ModelChanges(List<Change> loaded, List<Change> unloaded) {

    /** A model and the backend whose arrival (or departure) caused the change; {@code backends} serve it after. */
    public record Change(String model, String backend, int backends) {
    }

    public static ModelChanges between(Map<String, Set<String>> was, Map<String, Set<String>> now) {
        List<Change> loaded = new ArrayList<>();
        List<Change> unloaded = new ArrayList<>();
        now.forEach((model, backends) -> {
            if (!was.containsKey(model)) {
                loaded.add(new Change(model, backends.iterator().next(), backends.size()));
            }
        });
        was.forEach((model, backends) -> {
            if (!now.containsKey(model)) {
                unloaded.add(new Change(model, backends.iterator().next(), 0));
            }
        });
        return new ModelChanges(loaded, unloaded);
    }

    /** Model name → ids of the healthy backends serving it, in a stable order. */
    public static Map<String, Set<String>> servers(Collection<Backend> backends) {
        Map<String, Set<String>> byModel = new TreeMap<>();
        for (Backend b : backends) {
            if (b.healthy()) {
                b.models().forEach(m -> byModel.computeIfAbsent(m, k -> new TreeSet<>()).add(b.id()));
            }
        }
        return byModel;
    }
}
