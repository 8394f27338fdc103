package io.shardlift.core.spec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.shardlift.core.TableId;

/** The checks that span tables: colocation groups and their partitions, and partitions against the cluster size. */
final class Colocation {

    private Colocation() {
    }

    /**
     * Checks colocation (target exists, is sharded, no cycles, same partitions and key width) and partitions
     * against the node count. Returns the resolved partitions of every sharded table whose group resolves.
     */
    static Map<TableId, Integer> resolve(List<TableDraft> drafts, int nodeCount, Problems problems) {
        Map<TableId, TableDraft> byId = new HashMap<>();
        drafts.forEach(d -> byId.putIfAbsent(d.id(), d));
        List<TableId> names = drafts.stream().map(TableDraft::id).toList();

        // 1. each link on its own
        Set<TableId> badLink = new HashSet<>();
        for (TableDraft d : drafts) {
            if (d.type() != TableType.SHARDED || d.colocate() == null) {
                continue;
            }
            TableDraft target = byId.get(d.colocate());
            String key = d.path() + ".colocatewith";
            if (target == null) {
                Optional<String> close = Suggest.closest(d.colocate().toString(),
                        names.stream().map(TableId::toString).toList());
                problems.add(key, Problems.quote(d.colocateRaw()), "there is no table " + d.colocate() + " in this spec; "
                        + "colocatewith must name a sharded table listed under schemas (name for the same schema, "
                        + "schema.name for another)" + close.map(c -> "; did you mean " + c + "?").orElse(""));
                badLink.add(d.id());
            } else if (target.type() == TableType.GLOBAL) {
                problems.add(key, Problems.quote(d.colocateRaw()), target.id() + " is a global table; colocatewith must "
                        + "name a sharded table, the one whose partitions this table's rows should share");
                badLink.add(d.id());
            } else if (target.type() == null) {
                badLink.add(d.id());
            }
        }

        // 2. follow each chain to its root; report each cycle once
        Map<TableId, TableDraft> roots = new HashMap<>();
        Set<Set<TableId>> cycles = new HashSet<>();
        for (TableDraft d : drafts) {
            if (d.type() != TableType.SHARDED) {
                continue;
            }
            List<TableId> chain = new ArrayList<>();
            TableDraft cur = d;
            boolean resolved = true;
            while (cur.colocate() != null) {
                if (badLink.contains(cur.id())) {
                    resolved = false;
                    break;
                }
                chain.add(cur.id());
                TableDraft next = byId.get(cur.colocate());
                int seenAt = chain.indexOf(next.id());
                if (seenAt >= 0) {
                    List<TableId> cycle = chain.subList(seenAt, chain.size());
                    if (cycles.add(new HashSet<>(cycle))) {
                        TableDraft first = drafts.stream().filter(x -> cycle.contains(x.id())).findFirst().orElseThrow();
                        StringBuilder ring = new StringBuilder();
                        int start = cycle.indexOf(first.id());
                        for (int k = 0; k <= cycle.size(); k++) {
                            ring.append(k == 0 ? "" : " → ").append(cycle.get((start + k) % cycle.size()));
                        }
                        problems.add(first.path() + ".colocatewith", Problems.quote(first.colocateRaw()),
                                "colocatewith goes round in a cycle (" + ring + "); one table of the group must be its "
                                        + "root and have no colocatewith");
                    }
                    resolved = false;
                    break;
                }
                cur = next;
            }
            if (resolved) {
                roots.put(d.id(), cur);
            }
        }

        // 3. partitions and key width within each group, and against the node count
        Map<TableId, Integer> resolved = new HashMap<>();
        for (TableDraft d : drafts) {
            TableDraft root = roots.get(d.id());
            if (root == null || root.partitionsBad()) {
                continue;
            }
            int rootParts = root.partitions() != null ? root.partitions() : TableSpec.DEFAULT_PARTITIONS;
            resolved.put(d.id(), rootParts);
            if (root == d) {
                if (nodeCount > rootParts) {
                    int idle = nodeCount - rootParts;
                    String shown = d.partitions() != null ? String.valueOf(d.partitions())
                            : "(default " + TableSpec.DEFAULT_PARTITIONS + ")";
                    problems.add(d.path() + ".partitions", shown, "with " + nodeCount + " cluster nodes, " + idle
                            + (idle == 1 ? " node" : " nodes") + " would hold no partition of " + d.id()
                            + " (partition i lives on node i mod " + nodeCount + "); use partitions: " + nodeCount
                            + " or more, a multiple of " + nodeCount + " (e.g. " + 2 * nodeCount + ") spreads rows evenly");
                }
                continue;
            }
            String rootDesc = root.id() + ", which has " + rootParts + (rootParts == 1 ? " partition" : " partitions")
                    + (root.partitions() == null ? " (the default)" : "");
            if (d.partitions() != null && d.partitions() != rootParts) {
                problems.add(d.path() + ".partitions", String.valueOf(d.partitions()), d.id() + " is colocated with "
                        + rootDesc + "; colocated tables must have the same number of partitions: set partitions: "
                        + rootParts + " or remove it");
            }
            if (d.columns() != null && root.columns() != null && d.columns().size() != root.columns().size()) {
                problems.add(d.path() + ".distributedby", d.columnsNode(), d.id() + " is colocated with " + root.id()
                        + ", which shards on " + root.columns().size() + (root.columns().size() == 1 ? " column" : " columns")
                        + " (" + String.join(",", root.columns()) + "); colocated tables must shard on the same number of "
                        + "columns, of the same types, in the same order");
            }
        }
        return resolved;
    }

    /**
     * Checks a schema's sharded {@code unlisted:} rule like a table's colocation (the target is a listed sharded table,
     * same partitions and key width as its group's root) and its partitions against the node count. Returns the rule's
     * resolved partitions, or null when it does not resolve (reported, or following a problem reported already).
     */
    static Integer resolveRule(UnlistedDraft rule, List<TableDraft> drafts, Map<TableId, Integer> resolved, int nodeCount,
                               Problems problems) {
        if (rule.partitionsBad()) {
            return null;
        }
        String what = "the unlisted tables of schema " + rule.schema();
        if (rule.colocate() == null) {
            if (rule.colocateRaw() != null) {
                return null; // not a table name: reported
            }
            int parts = rule.partitions() != null ? rule.partitions() : TableSpec.DEFAULT_PARTITIONS;
            if (nodeCount > parts) {
                int idle = nodeCount - parts;
                String shown = rule.partitions() != null ? String.valueOf(parts) : "(default " + TableSpec.DEFAULT_PARTITIONS + ")";
                problems.add(rule.path() + ".partitions", shown, "with " + nodeCount + " cluster nodes, " + idle
                        + (idle == 1 ? " node" : " nodes") + " would hold no partition of " + what + " (partition i lives on"
                        + " node i mod " + nodeCount + "); use partitions: " + nodeCount + " or more, or colocatewith: a sharded"
                        + " table of the spec");
                return null;
            }
            return parts;
        }
        Map<TableId, TableDraft> byId = new HashMap<>();
        drafts.forEach(d -> byId.putIfAbsent(d.id(), d));
        TableDraft target = byId.get(rule.colocate());
        String key = rule.path() + ".colocatewith";
        if (target == null) {
            Optional<String> close = Suggest.closest(rule.colocate().toString(),
                    drafts.stream().map(d -> d.id().toString()).toList());
            problems.add(key, Problems.quote(rule.colocateRaw()), "there is no table " + rule.colocate() + " listed in this "
                    + "spec; the unlisted rule's colocatewith must name a sharded table listed under schemas (name for the "
                    + "same schema, schema.name for another), not an unlisted one" + close.map(c -> "; did you mean " + c + "?")
                    .orElse(""));
            return null;
        }
        if (target.type() == TableType.GLOBAL) {
            problems.add(key, Problems.quote(rule.colocateRaw()), target.id() + " is a global table; colocatewith must name a"
                    + " sharded table, the one whose partitions " + what + " should share, or be removed");
            return null;
        }
        Integer parts = resolved.get(target.id());
        if (target.type() == null || parts == null) {
            return null; // the target's own problem is reported
        }
        TableDraft root = target;
        java.util.Set<TableId> seen = new HashSet<>();
        while (root.colocate() != null && seen.add(root.id()) && byId.containsKey(root.colocate())) {
            root = byId.get(root.colocate());
        }
        String rootDesc = root.id() + ", which has " + parts + (parts == 1 ? " partition" : " partitions")
                + (root.partitions() == null ? " (the default)" : "");
        if (rule.partitions() != null && rule.partitions().intValue() != parts) {
            problems.add(rule.path() + ".partitions", String.valueOf(rule.partitions()), what + " are colocated with "
                    + rootDesc + "; colocated tables must have the same number of partitions: set partitions: " + parts
                    + " or remove it");
            return null;
        }
        if (rule.columns() != null && root.columns() != null && rule.columns().size() != root.columns().size()) {
            problems.add(rule.path() + ".distributedby", rule.columnsNode(), what + " are colocated with " + root.id()
                    + ", which shards on " + root.columns().size() + (root.columns().size() == 1 ? " column" : " columns")
                    + " (" + String.join(",", root.columns()) + "); the rule must shard on the same number of columns, of the"
                    + " same types, in the same order, or colocate with another table");
            return null;
        }
        return rule.columns() == null ? null : parts;
    }
}
