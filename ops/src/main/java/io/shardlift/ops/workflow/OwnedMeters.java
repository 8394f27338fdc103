package io.shardlift.ops.workflow;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

/**
 * The process's registry as one {@link Migration} registers on it, so that the migration removes, when it closes, the
 * meters it (and its stages) registered and nothing else: the control plane's and Vert.x's meters share the registry and
 * outlive a migration replaced in the same process ({@link LiveMigration}). Every meter registered through
 * {@link #registry()} is also registered, under the same id, on the shared registry, which is what {@code /metrics} shows.
 */
final class OwnedMeters {

    private final MeterRegistry shared;
    private final CompositeMeterRegistry own = new CompositeMeterRegistry();

    OwnedMeters(MeterRegistry shared) {
        this.shared = shared;
        own.add(shared);
    }

    /** Where the migration registers: the shared registry, remembering what was registered. */
    MeterRegistry registry() {
        return own;
    }

    /**
     * Removes every meter registered through {@link #registry()} from the shared registry. Not {@code close()}: a
     * composite's close closes the registries under it, and the shared one is not this migration's.
     */
    void removeAll() {
        for (Meter m : own.getMeters()) {
            own.remove(m); // a composite's removal removes the meter from the registries under it
        }
        own.remove(shared);
    }
}
