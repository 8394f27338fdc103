package io.shardlift.ops.cutover;

import io.shardlift.core.TargetException;
import io.shardlift.ops.verify.Verifier;
import io.shardlift.ops.verify.VerifyOptions;
import io.shardlift.ops.verify.VerifyReport;

/**
 * {@code verify} (rollback): with the cluster fenced and the reverse stream drained, the source must hold the cluster's
 * content: every table compared row by row (the chunked row hashes of {@code verify}). A difference stops the rollback
 * before its point of no return, naming what differs. Its time grows with the data, not with the changes: the
 * rollback's freeze includes it.
 */
final class RollbackVerifyStep implements CutoverStep {

    @Override
    public String name() {
        return "verify";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        // the cluster takes writes during a dry run (it is not fenced): a comparison would find what is in flight
        return "would compare every table of the source with the cluster, row by row";
    }

    @Override
    public String run(CutoverContext ctx) throws Exception {
        VerifyReport r = new Verifier(ctx.plan(), VerifyOptions.withJobs(Math.max(2, ctx.plan().nodeCount()))).run();
        if (!r.equal()) {
            throw new TargetException("the source differs from the cluster after the reverse stream drained: " + r
                    + " — nothing was switched back; the cluster is still the database");
        }
        return "the source holds the cluster's content, every table compared row by row";
    }
}
