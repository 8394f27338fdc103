package io.shardlift.ops.workflow;

import io.shardlift.ops.preflight.Preflight;
import io.shardlift.core.SourceException;
import io.shardlift.core.TableId;
import io.shardlift.core.catalog.SourceCatalog;
import io.shardlift.core.ddl.SourceDdlLog;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.core.plan.PlanException;
import io.shardlift.core.plan.SchemaPlanner;
import io.shardlift.core.spec.MigrationSpec;
import io.shardlift.core.spec.SchemaSpec;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Reads the source catalog and plans the layout: the first step of every command that touches the cluster. */
public final class Planning {

    private Planning() {
    }

    /**
     * The plan, if the source could be planned, and the preflight's report, which holds the planner's refusals too.
     *
     * @param leftOut the tables a restart of {@code run} leaves out of {@code plan} ({@link #planResuming}), with the
     *                planner's problems of each; empty on a first start
     */
    public record Checked(Optional<ClusterPlan> plan, Preflight.Report report, Map<TableId, List<String>> leftOut) {
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
        return planLeavingOut(spec, catalog(spec), candidates::contains);
    }

    /**
     * Plans, and while the planner refuses only tables {@code mayLeaveOut} accepts, leaves those out and plans again
     * (a table whose foreign key references one left out is refused the next round).
     */
    private static TakeOn planLeavingOut(MigrationSpec spec, SourceCatalog catalog, java.util.function.Predicate<TableId> mayLeaveOut) {
        Map<TableId, List<String>> refused = new TreeMap<>();
        while (true) {
            try {
                return new TakeOn(SchemaPlanner.plan(spec, catalog, refused.keySet()), refused);
            } catch (PlanException e) {
                Set<TableId> about = e.problemsByTable().keySet();
                if (about.isEmpty() || !about.stream().allMatch(mayLeaveOut) || refused.keySet().containsAll(about)) {
                    throw e;
                }
                refused.putAll(e.problemsByTable());
            }
        }
    }

    /**
     * The plan verify compares: as {@link #plan}, leaving out every table the planner refuses (a listed table the source
     * renamed or dropped, whose stream stopped), so that the others are still compared; the refused ones, with the
     * planner's reasons, for verify to name as not compared.
     *
     * @throws PlanException a problem that is about no table (the spec as a whole)
     */
    public static TakeOn planComparing(MigrationSpec spec) {
        return planLeavingOut(spec, catalog(spec), id -> true);
    }

    /**
     * The plan {@code run} starts with: as {@link #plan}, unless the planner refuses tables created on the source during a
     * migration already under way (its slot exists) in a schema listed with {@code all: true}, not carried yet
     * ({@code SourceDdlLog.notCarried}). Those are left out as the running process's take-on leaves them out
     * ({@link #planTakingOn}), so that one of them (a table without a primary key, say) does not stop every other table's
     * stream at a restart; the running migration names them and plans them again ({@link LiveMigration#startedWithout}).
     * A first start, or a problem of a table the migration carries, refuses as {@link #plan} does.
     */
    static TakeOn planResuming(MigrationSpec spec) {
        SourceCatalog catalog = catalog(spec);
        try {
            return new TakeOn(SchemaPlanner.plan(spec, catalog), Map.of());
        } catch (PlanException e) {
            Set<TableId> candidates = createdDuringTheMigration(spec);
            if (candidates.isEmpty()) {
                throw e;
            }
            return planLeavingOut(spec, catalog, candidates::contains);
        }
    }

    /**
     * The tables created on the source during this migration that it does not carry yet; empty before its slot exists
     * (the record of created tables is an abandoned attempt's then, and the slot's creation clears it), with
     * {@code replication.ddl: stop} (nothing records them), or when the source cannot be read (the preflight says why).
     */
    private static Set<TableId> createdDuringTheMigration(MigrationSpec spec) {
        if (!spec.replication().replicateDdl()) {
            return Set.of();
        }
        try (Connection c = spec.source().connect();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?"
                     + " AND database = current_database()")) {
            ps.setString(1, spec.replication().slot());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Set.of();
                }
            }
            Set<TableId> out = new TreeSet<>();
            SourceDdlLog.notCarried(c).forEach(t -> out.add(t.table()));
            return out;
        } catch (SQLException e) {
            return Set.of();
        }
    }

    /**
     * Plans and runs the preflight for {@code scope}, read-only. A refused plan does not stop the other checks:
     * every problem is in the report at once. For {@code run} (and {@code plan}, its dry twin) a restart leaves out the
     * tables created during the migration that the planner refuses ({@link #planResuming}).
     */
    public static Checked check(MigrationSpec spec, Preflight.Scope scope, Path dataDir) {
        Optional<ClusterPlan> plan = Optional.empty();
        Map<TableId, List<String>> leftOut = Map.of();
        List<String> planProblems = List.of();
        String sourceProblem = null;
        try {
            if (scope == Preflight.Scope.RUN) {
                TakeOn t = planResuming(spec);
                plan = Optional.of(t.plan());
                leftOut = t.refused();
            } else {
                plan = Optional.of(plan(spec));
            }
        } catch (PlanException e) {
            planProblems = e.problems();
        } catch (SourceException e) {
            sourceProblem = e.getMessage();
        }
        Preflight.Report report = Preflight.check(spec, plan, scope, dataDir).add(Preflight.Domain.SPEC, planProblems);
        if (sourceProblem != null && report.sourceReachable()) {
            report.add(Preflight.Domain.SOURCE, List.of(sourceProblem));
        }
        return new Checked(plan, report, leftOut);
    }

    /** The plan, once every check {@code scope} needs has passed; otherwise {@link Preflight.Refused}, nothing written. */
    public static ClusterPlan checked(MigrationSpec spec, Preflight.Scope scope, Path dataDir) {
        Checked c = check(spec, scope, dataDir);
        c.report().throwIfProblems();
        return c.plan().orElseThrow();
    }

    /**
     * What {@code run} starts with, once every check has passed: the plan, and the tables a restart leaves out of it
     * ({@link #planResuming}) with the planner's problems of each; otherwise {@link Preflight.Refused}, nothing written.
     */
    public static TakeOn checkedRun(MigrationSpec spec, Path dataDir) {
        Checked c = check(spec, Preflight.Scope.RUN, dataDir);
        c.report().throwIfProblems();
        return new TakeOn(c.plan().orElseThrow(), c.leftOut());
    }
}
