package io.shardlift.ops.workflow;

import io.shardlift.ops.preflight.Preflight;
import io.shardlift.core.SourceException;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.PlanException;
import io.shardlift.core.plan.SchemaPlanner;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SchemaSpec;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** Reads the source catalog and plans the layout: the first step of every command that touches the cluster. */
public final class Planning {

    private Planning() {
    }

    /** The plan, if the source could be planned, and the preflight's report, which holds the planner's refusals too. */
    public record Checked(Optional<ClusterPlan> plan, Preflight.Report report) {
    }

    public static ClusterPlan plan(MigrationSpec spec) {
        return SchemaPlanner.plan(spec, catalog(spec));
    }

    private static SourceCatalog catalog(MigrationSpec spec) {
        try (Connection c = spec.source().connect()) {
            return SourceCatalog.read(c, spec.schemas().stream().map(SchemaSpec::name).toList());
        } catch (SQLException e) {
            throw new SourceException("source " + spec.source().label() + ": " + e.getMessage()
                    + " — check migrate.connstr and that the server accepts connections", e);
        }
    }

    /**
     * A plan that takes on tables created on the source during the migration, and those of them it cannot take on.
     *
     * @param refused each table left out of {@code plan}, with the planner's problems of it
     */
    public record TakeOn(ClusterPlan plan, Map<TableId, List<String>> refused) {
    }

    /**
     * Plans from the catalog as {@link #plan} does, leaving out those of {@code candidates} (tables created during the
     * migration in a schema listed with {@code all: true}) the planner refuses, so that one of them does not hold the
     * others: each round leaves out the candidates its problems are about, and plans again (a candidate whose foreign key
     * references one left out is refused the next round).
     *
     * @throws PlanException a problem is about a table that is not a candidate (a migrated one): leaving candidates out
     *                       does not help, and nothing is taken on
     */
    public static TakeOn planTakingOn(MigrationSpec spec, Set<TableId> candidates) {
        SourceCatalog catalog = catalog(spec);
        Map<TableId, List<String>> refused = new TreeMap<>();
        while (true) {
            try {
                return new TakeOn(SchemaPlanner.plan(spec, catalog, refused.keySet()), refused);
            } catch (PlanException e) {
                Set<TableId> about = e.problemsByTable().keySet();
                if (about.isEmpty() || !candidates.containsAll(about) || refused.keySet().containsAll(about)) {
                    throw e;
                }
                refused.putAll(e.problemsByTable());
            }
        }
    }

    /**
     * Plans and runs the preflight for {@code scope}, read-only. A refused plan does not stop the other checks:
     * every problem is in the report at once.
     */
    public static Checked check(MigrationSpec spec, Preflight.Scope scope, Path dataDir) {
        Optional<ClusterPlan> plan = Optional.empty();
        List<String> planProblems = List.of();
        String sourceProblem = null;
        try {
            plan = Optional.of(plan(spec));
        } catch (PlanException e) {
            planProblems = e.problems();
        } catch (SourceException e) {
            sourceProblem = e.getMessage();
        }
        Preflight.Report report = Preflight.check(spec, plan, scope, dataDir).add(Preflight.Domain.SPEC, planProblems);
        if (sourceProblem != null && report.sourceReachable()) {
            report.add(Preflight.Domain.SOURCE, List.of(sourceProblem));
        }
        return new Checked(plan, report);
    }

    /** The plan, once every check {@code scope} needs has passed; otherwise {@link Preflight.Refused}, nothing written. */
    public static ClusterPlan checked(MigrationSpec spec, Preflight.Scope scope, Path dataDir) {
        Checked c = check(spec, scope, dataDir);
        c.report().throwIfProblems();
        return c.plan().orElseThrow();
    }
}
