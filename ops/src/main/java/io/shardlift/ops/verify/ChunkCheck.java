package io.shardlift.ops.verify;

import java.util.List;
import java.util.stream.IntStream;

/** The checksums of one key range: the source's and each node's (zero on a node that holds none of the table). */
record ChunkCheck(TableSql table, KeyRange range, Checksum source, List<Checksum> nodes) {

    ChunkCheck {
        nodes = List.copyOf(nodes);
    }

    /** A sharded table's node checksums add up to the source's; each node's copy of a reference table equals it. */
    boolean differs() {
        if (table.plan.sharded()) {
            return !nodes.stream().reduce(Checksum.ZERO, Checksum::plus).equals(source);
        }
        return !differingNodes().isEmpty();
    }

    /** Reference tables: the nodes whose copy of the range differs. Empty for sharded tables. */
    List<Integer> differingNodes() {
        if (table.plan.sharded()) {
            return List.of();
        }
        return IntStream.range(0, nodes.size()).filter(k -> !nodes.get(k).equals(source)).boxed().toList();
    }

    List<Long> nodeRows() {
        return nodes.stream().map(Checksum::rows).toList();
    }
}
