package io.shardlift.ops.cli;

import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SpecLoader;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config FILE} option every command that reads a spec shares. */
public final class SpecOptions {

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
            description = "Migration spec (YAML; accepts the migrate.yml of shardmanctl load).")
    Path config;

    public MigrationSpec load() {
        return new SpecLoader().load(config);
    }
}
