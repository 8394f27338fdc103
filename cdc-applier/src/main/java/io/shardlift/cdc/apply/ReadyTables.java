package io.shardlift.cdc.apply;

import io.shardlift.core.TableId;
import io.shardlift.core.ledger.CopyLedger;
import io.shardlift.core.plan.TablePlan;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ordered catch-up: a table's changes are applied only once its copy is done (node 0's record) and every node has
 * built its keys and indexes, read from the copy's ledger.
 */
final class ReadyTables {

    private static final Logger log = LoggerFactory.getLogger(ReadyTables.class);

    private final List<TablePlan> tables;
    private final List<ConnInfo> nodes;
    private final Set<TableId> ready = new CopyOnWriteArraySet<>();
    private final boolean awaitCopy;

    ReadyTables(List<TablePlan> tables, List<ConnInfo> nodes) {
        this(tables, nodes, true);
    }

    /** @param awaitCopy false: every table is ready at once (a target that holds every row, with no copy ledger) */
    ReadyTables(List<TablePlan> tables, List<ConnInfo> nodes, boolean awaitCopy) {
        this.tables = tables;
        this.nodes = nodes;
        this.awaitCopy = awaitCopy;
    }

    Set<TableId> now() {
        return Set.copyOf(ready);
    }

    boolean none() {
        return ready.isEmpty();
    }

    boolean all() {
        return ready.size() == tables.size();
    }

    /** Reads the copy's ledger; returns every ready table when some became ready, else empty. */
    Optional<Set<TableId>> refresh() {
        if (all()) {
            return Optional.empty();
        }
        Set<TableId> now = new LinkedHashSet<>(ready);
        if (!awaitCopy) {
            tables.forEach(t -> ready.add(t.id()));
            return Optional.of(new LinkedHashSet<>(ready));
        }
        try {
            Set<String> copied;
            try (Connection c = nodes.get(0).connect()) {
                copied = CopyLedger.copiedTables(c);
            }
            List<Set<String>> indexed = new ArrayList<>();
            for (ConnInfo node : nodes) {
                try (Connection c = node.connect()) {
                    indexed.add(CopyLedger.indexedTables(c));
                }
            }
            for (TablePlan t : tables) {
                String name = t.id().toString();
                if (copied.contains(name) && indexed.stream().allMatch(s -> s.contains(name))) {
                    now.add(t.id());
                }
            }
        } catch (SQLException e) {
            log.warn("cannot read copy progress from the nodes ({}); retrying", e.getMessage());
            return Optional.empty();
        }
        if (now.equals(ready)) {
            return Optional.empty();
        }
        Set<TableId> added = new LinkedHashSet<>(now);
        added.removeAll(ready);
        ready.addAll(now);
        log.info("applying changes of {} (copy and indexes done); {} of {} tables now", added, ready.size(), tables.size());
        return Optional.of(new LinkedHashSet<>(ready));
    }
}
