package io.shardlift.ops.cutover;

import java.time.Instant;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The durable state of the cutover, kept by {@link io.shardlift.core.ledger.CutoverLedger} (one row on node 0), parsed
 * once from its stored text {@code STATE id [note]} (the format earlier versions wrote and read, kept so a node laid
 * out by one reads the same with the other); {@code at} is the row's {@code updated_at}. {@link StateStore} reads and
 * moves it.
 *
 * <p>Transitions, each checked against what node 0 holds at the moment it is written: none or {@code ROLLED_BACK}
 * to {@code CUTTING_OVER} (a cutover starts), {@code CUTTING_OVER} to {@code CUT_OVER} (its point of no return
 * committed) or {@code ROLLED_BACK} (it did not). {@code CUT_OVER} is final: no later cutover may move sequences,
 * overwrite the record or fence anything again.
 */
public record CutoverState(State state, String id, Instant at, Optional<String> note) {

    public enum State {
        CUTTING_OVER, CUT_OVER, ROLLED_BACK,
        /** A rollback under way: the rollback window's way back to the source. */
        ROLLING_BACK,
        /** A rollback passed its point of no return: the source is the database again; a new cutover may follow. */
        REVERTED,
        /** The rollback window closed (complete): final. */
        COMPLETED;

        /** The states a cutover or a rollback may move into from this one. */
        Set<State> next() {
            return switch (this) {
                case CUTTING_OVER -> EnumSet.of(CUT_OVER, ROLLED_BACK);
                case ROLLED_BACK, REVERTED -> EnumSet.of(CUTTING_OVER);
                case CUT_OVER -> EnumSet.of(ROLLING_BACK, COMPLETED);
                case ROLLING_BACK -> EnumSet.of(REVERTED, CUT_OVER);
                case COMPLETED -> EnumSet.noneOf(State.class);
            };
        }

        /** A state an operation begins by moving into (with an id of its own). */
        boolean begins() {
            return this == CUTTING_OVER || this == ROLLING_BACK;
        }
    }

    /** The states a cutover may begin from (besides none at all). */
    static final Set<State> STARTABLE = EnumSet.of(State.ROLLED_BACK, State.REVERTED);

    /** The states a rollback may begin from. */
    static final Set<State> ROLLBACK_STARTABLE = EnumSet.of(State.CUT_OVER);

    /** The text stored on node 0. */
    String encode() {
        return state + " " + id + note.map(n -> " " + n).orElse("");
    }

    /** The cutover state node 0 records; empty when no cutover ever began or node 0 is not laid out yet. */
    public static Optional<CutoverState> read(java.sql.Connection node0) throws java.sql.SQLException {
        return io.shardlift.core.ledger.CutoverLedger.read(node0).map(e -> parse(e.value(), e.at()));
    }

    /**
     * @throws IllegalStateException naming the text when it is not a cutover state (written by something else)
     */
    static CutoverState parse(String text, Instant at) {
        String[] parts = text.strip().split(" ", 3);
        State state;
        try {
            state = State.valueOf(parts[0]);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("node 0 holds a cutover state shardlift does not know: '" + parts[0]
                    + "' (shardlift.meta, key cutover); expected one of " + java.util.Arrays.toString(State.values()));
        }
        if (parts.length < 2 || parts[1].isBlank()) {
            throw new IllegalStateException("node 0 holds the cutover state " + state + " without a cutover id (shardlift.meta, key cutover)");
        }
        return new CutoverState(state, parts[1], at, parts.length > 2 ? Optional.of(parts[2]) : Optional.empty());
    }

    /**
     * Checks that a cutover in {@code current} (empty: none ever ran) may move to {@code to}.
     *
     * @throws IllegalTransition "expected X but it is Y"
     */
    static void checkTransition(Optional<CutoverState> current, State to, String id) {
        if (current.isEmpty()) {
            if (to != State.CUTTING_OVER) {
                throw new IllegalTransition(Optional.empty(), to, "expected a cutover " + id + " under way (CUTTING_OVER) but none is recorded");
            }
            return;
        }
        CutoverState c = current.get();
        if (!c.state().next().contains(to)) {
            Set<State> from = EnumSet.noneOf(State.class);
            for (State s : State.values()) {
                if (s.next().contains(to)) {
                    from.add(s);
                }
            }
            throw new IllegalTransition(current, to, "cutover state " + to + " for " + id + ": expected " + (to == State.CUTTING_OVER
                    ? "no cutover or " : "") + String.join(" or ", from.stream().map(State::name).toList()) + " but it is " + c.state()
                    + " (" + c.id() + " at " + c.at() + ")");
        }
        // the end of a cutover (or a rollback) is recorded only by the one that began it
        if (!to.begins() && !c.id().equals(id)) {
            throw new IllegalTransition(current, to, "cutover state " + to + " for " + id + ": expected " + c.state() + " of " + id
                    + " but it is " + c.state() + " of " + c.id());
        }
    }

    /** A transition the durable state does not allow; nothing was written. */
    public static final class IllegalTransition extends IllegalStateException {
        private final transient Optional<CutoverState> current;

        IllegalTransition(Optional<CutoverState> current, State to, String message) {
            super(message);
            this.current = current;
        }

        /** What node 0 holds. */
        public Optional<CutoverState> current() {
            return current;
        }
    }
}
