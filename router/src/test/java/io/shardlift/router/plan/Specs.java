package io.shardlift.router.plan;

import io.shardlift.router.spec.MigrationSpec;
import io.shardlift.router.spec.SpecLoader;

/** Test helper: a spec from YAML text. */
final class Specs {
    private Specs() {
    }

    static MigrationSpec parse(String yaml) {
        return new SpecLoader().parse(yaml, "test.yml");
    }
}
