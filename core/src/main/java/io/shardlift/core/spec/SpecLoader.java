package io.shardlift.core.spec;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Reads and validates a migration spec ({@code migrate.yml}). Accepts shardmanctl load's file as written
 * ({@code connstr}, {@code jobs}, {@code batch}, {@code options}, {@code schemas} under {@code migrate:} or at
 * the top level) plus shardlift's own sections ({@code cluster}, {@code kafka}, {@code replication},
 * {@code control}). Every problem is collected and reported at once in a {@link SpecException}.
 *
 * <p>The environment is injectable: it is consulted for {@code ${VAR}} references in string values and for
 * libpq's {@code PGUSER}, {@code PGPASSWORD} and {@code PGPASSFILE}.
 */
public final class SpecLoader {

    private final Function<String, String> env;
    private final Path pgpassFile;

    /** The process environment, and libpq's password file ({@code $PGPASSFILE} or {@code ~/.pgpass}). */
    public SpecLoader() {
        this(System::getenv, null);
    }

    /**
     * @param env        environment lookup, returns null for an unset variable
     * @param pgpassFile the password file; null means libpq's choice ({@code PGPASSFILE} from {@code env}, else
     *                   {@code ~/.pgpass}). A {@code passfile} keyword in a connection string still wins.
     */
    public SpecLoader(Function<String, String> env, Path pgpassFile) {
        this.env = Objects.requireNonNull(env, "env");
        this.pgpassFile = pgpassFile;
    }

    /** Reads the spec from a file. */
    public MigrationSpec load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new SpecException(file.toString(), List.of(new Problem("(file)", Problems.quote(file.toString()),
                    "the spec is not UTF-8 text; save it as UTF-8")));
        } catch (IOException e) {
            throw new SpecException(file.toString(), List.of(new Problem("(file)", Problems.quote(file.toString()),
                    "cannot read the spec (" + e.getClass().getSimpleName() + "); check the path and its permissions")));
        }
        return parse(text, file.toString());
    }

    /**
     * Parses spec text.
     *
     * @param sourceName where the text came from, for the exception message
     * @throws SpecException listing every problem found
     */
    public MigrationSpec parse(String yaml, String sourceName) {
        Path passfile = pgpassFile != null ? pgpassFile : Pgpass.defaultFile(env);
        return new SpecReader(env, passfile).read(yaml, sourceName);
    }
}
