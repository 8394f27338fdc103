package io.shardlift.ops.cutover;

import java.util.List;
import java.util.Optional;

/**
 * What a cutover (or its dry run) did.
 *
 * @param outcome     DONE, REFUSED (a gate said no; nothing changed), ROLLED_BACK (a step failed before the point of
 *                    no return; the source is writable as before), DRY_RUN
 * @param reason      why it was refused or rolled back
 * @param freezeMillis how long writes to the source were blocked (from the LOCK request that was granted to the release), 0 if never fenced
 */
public record CutoverReport(String id, Outcome outcome, Optional<String> reason, List<Step> steps, long freezeMillis,
                            boolean pointOfNoReturnPassed) {

    public enum Outcome { DONE, REFUSED, ROLLED_BACK, DRY_RUN }

    /** One named step: what it did and how long it took. */
    public record Step(String name, String status, long millis, String detail) {
    }

    public CutoverReport {
        steps = List.copyOf(steps);
    }

    public boolean ok() {
        return outcome == Outcome.DONE || outcome == Outcome.DRY_RUN;
    }
}
