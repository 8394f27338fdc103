package io.shardlift.ops.cutover;

import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.Markers;
import io.shardlift.ops.reverse.ReverseSlots;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code reverse-marker} and drain (rollback): a marker into each node's WAL, after the cluster's fence, then a wait
 * until the source recorded it in every partition of every reverse topic that node's capture feeds: everything
 * committed on the cluster is then on the source.
 */
final class ReverseDrainStep implements CutoverStep {

    @Override
    public String name() {
        return "reverse-drain";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        ctx.failpoint("rollback.drain");
        int nodes = round(ctx, "rollback-" + ctx.id());
        return "markers of " + nodes + " nodes applied on the source in every partition of their topics";
    }

    /**
     * A marker into the WAL of each node that publishes tables, then a wait until the source recorded each in every
     * partition of the reverse topics that node's capture feeds: what the nodes committed before is on the source then.
     *
     * @return how many nodes sent a marker
     */
    static int round(CutoverContext ctx, String prefix) throws java.sql.SQLException, InterruptedException {
        Connection source = ctx.links().source(0);
        Markers.listen(source);
        List<String> names = new ArrayList<>();
        List<Integer> expected = new ArrayList<>();
        for (int k = 0; k < ctx.plan().nodeCount(); k++) {
            int tables = ReverseSlots.tablesOn(ctx.plan(), k).size();
            if (tables == 0) {
                continue;
            }
            String name = prefix + "-n" + k;
            Markers.emit(ctx.links().node(k), name);
            names.add(name);
            expected.add(tables * ctx.plan().spec().kafka().topicPartitions());
        }
        for (int i = 0; i < names.size(); i++) {
            try {
                Markers.await(source, names.get(i), expected.get(i), ctx.options().drainTimeout());
            } catch (Markers.NotThrough e) {
                throw new TargetException(e.getMessage() + " — check the reverse stream (shardlift status)");
            }
        }
        return names.size();
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would wait until the reverse stream applied a marker of each node on the source";
    }
}
