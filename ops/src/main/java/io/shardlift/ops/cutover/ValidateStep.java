package io.shardlift.ops.cutover;

import io.shardlift.core.TargetException;
import io.shardlift.core.plan.LayoutApplier;
import java.util.EnumSet;

/**
 * {@code validate}: the foreign keys created NOT VALID inside the freeze are validated, writes flowing again. After the
 * point of no return: a failure is reported with what to do, and the cutover stays done ({@link Recovery} validates
 * what a stopped process left NOT VALID).
 */
final class ValidateStep implements CutoverStep {

    @Override
    public String name() {
        return "validate";
    }

    @Override
    public String run(CutoverContext ctx) {
        try {
            LayoutApplier.apply(ctx.plan(), EnumSet.of(LayoutApplier.Stage.VALIDATE_FOREIGN_KEYS));
        } catch (RuntimeException e) {
            throw new TargetException(e.getMessage() + " — the data is in place; validate by hand (ALTER TABLE ... VALIDATE CONSTRAINT)", e);
        }
        return "foreign keys validated";
    }

    @Override
    public String dryRun(CutoverContext ctx) {
        return "would validate the foreign keys, writes flowing";
    }
}
