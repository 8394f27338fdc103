package io.shardlift.ops.control;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cutover request that does not fit the migration's durable state (the cutover is done, or one is under way):
 * answered 409 with the message and the recorded cutover, and nothing was changed.
 */
public final class CutoverConflict extends Exception {

    private final transient Map<String, Object> cutover;

    /** @param cutover the recorded cutover as JSON-able values: state, id, at, note */
    public CutoverConflict(String message, Map<String, Object> cutover) {
        super(message);
        this.cutover = new LinkedHashMap<>(cutover);
    }

    public Map<String, Object> cutover() {
        return cutover;
    }
}
