package io.shardlift.core.plan;

import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SpecLoader;

/** Test helper: a spec from YAML text. */
final class Specs {
    private Specs() {
    }

    static MigrationSpec parse(String yaml) {
        return new SpecLoader().parse(yaml, "test.yml");
    }
}
