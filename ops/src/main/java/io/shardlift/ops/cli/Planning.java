package io.shardlift.ops.cli;

import io.shardlift.router.SourceException;
import io.shardlift.router.catalog.SourceCatalog;
import io.shardlift.router.plan.ClusterPlan;
import io.shardlift.router.plan.SchemaPlanner;
import io.shardlift.router.spec.MigrationSpec;
import io.shardlift.router.spec.SchemaSpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** Reads the source catalog and plans the layout: the first step of every command that touches the cluster. */
public final class Planning {

    private Planning() {
    }

    public static ClusterPlan plan(MigrationSpec spec) {
        SourceCatalog catalog;
        try (Connection c = DriverManager.getConnection(spec.source().jdbcUrl(), spec.source().jdbcProperties())) {
            catalog = SourceCatalog.read(c, spec.schemas().stream().map(SchemaSpec::name).toList());
        } catch (SQLException e) {
            throw new SourceException("source " + spec.source().label() + ": " + e.getMessage()
                    + " — check migrate.connstr and that the server accepts connections", e);
        }
        return SchemaPlanner.plan(spec, catalog);
    }
}
