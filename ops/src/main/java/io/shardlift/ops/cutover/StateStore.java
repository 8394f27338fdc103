package io.shardlift.ops.cutover;

import io.shardlift.core.TargetException;
import io.shardlift.core.ledger.CutoverLedger;
import io.shardlift.core.spec.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cutover's {@link CutoverState} on node 0, read and moved through the {@link CutoverLedger}: every transition is
 * checked against what node 0 holds at the moment it is written ({@link CutoverState#checkTransition}) and logged
 * from -> to.
 */
final class StateStore implements CutoverRunner.StateLog {

    private static final Logger log = LoggerFactory.getLogger(StateStore.class);

    private final ConnInfo node0;

    StateStore(ConnInfo node0) {
        this.node0 = node0;
    }

    /** The durable cutover state, if a cutover ever began. */
    public Optional<CutoverState> read() {
        try (Connection c = node0.connect()) {
            return CutoverLedger.read(c).map(StateStore::parse);
        } catch (SQLException e) {
            throw new TargetException("node 0: cannot read the cutover state: " + e.getMessage(), e);
        }
    }

    /**
     * @throws CutoverState.IllegalTransition when the state does not allow it; nothing written
     */
    @Override
    public void transition(String id, CutoverState.State to, String note) {
        try (Connection c = node0.connect()) {
            Optional<CutoverState> before = CutoverLedger.write(c, current -> {
                CutoverState.checkTransition(current.map(StateStore::parse), to, id);
                return new CutoverState(to, id, Instant.now(), Optional.ofNullable(note)).encode();
            }).map(StateStore::parse);
            log.info("cutover {}: state {} -> {}", id, before.map(x -> x.state().name()).orElse("none"), to);
        } catch (SQLException e) {
            throw new TargetException("node 0: cannot record the cutover state: " + e.getMessage(), e);
        }
    }

    private static CutoverState parse(CutoverLedger.Entry e) {
        return CutoverState.parse(e.value(), e.at());
    }
}
