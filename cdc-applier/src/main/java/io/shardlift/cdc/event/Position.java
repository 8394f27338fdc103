package io.shardlift.cdc.event;

import io.shardlift.core.Lsn;

/**
 * Where a change sits in the source's commit order: a total order that is the same every time the WAL is
 * decoded again, so a consumer can drop the duplicates a capture restart may produce by remembering, per
 * Kafka partition, the last position it applied and skipping anything at or below it.
 *
 * <p>pgoutput decodes transactions in commit order and each transaction's changes in LSN order. A change's own
 * LSN is therefore not monotonic across transactions (a long transaction's early changes have low LSNs), but
 * the commit LSN of the transaction decoded before it is: every change of one transaction shares it, and it
 * grows from one transaction to the next. Debezium does not expose the change's own commit LSN before the
 * transaction ends (it drops the final LSN of pgoutput's BEGIN), so {@code previousCommitLsn} is what orders
 * transactions. {@code seq} separates changes that share an LSN: a primary-key change is decoded as one WAL
 * record and becomes a DELETE (seq 0) and an INSERT (seq 1) at the same LSN.
 *
 * @param previousCommitLsn commit LSN of the transaction decoded before this one (0 for the first after a fresh start)
 * @param lsn               LSN of this change's WAL record
 * @param seq               order among changes that share {@code lsn}
 */
public record Position(long previousCommitLsn, long lsn, int seq) implements Comparable<Position> {

    public static final Position ZERO = new Position(0, 0, 0);

    @Override
    public int compareTo(Position o) {
        int c = Long.compareUnsigned(previousCommitLsn, o.previousCommitLsn);
        if (c != 0) {
            return c;
        }
        c = Long.compareUnsigned(lsn, o.lsn);
        return c != 0 ? c : Integer.compare(seq, o.seq);
    }

    /** Reads {@link #toString}'s form back ({@code 0/1966FD0>0/1967850}, {@code ...#1}). */
    public static Position parse(String text) {
        int gt = text.indexOf('>');
        int hash = text.indexOf('#', gt + 1);
        if (gt < 1) {
            throw new IllegalArgumentException("\"" + text + "\" is not a stream position (expected lsn>lsn[#seq])");
        }
        return new Position(Lsn.parse(text.substring(0, gt)).value(), Lsn.parse(hash < 0 ? text.substring(gt + 1)
                : text.substring(gt + 1, hash)).value(), hash < 0 ? 0 : Integer.parseInt(text.substring(hash + 1)));
    }

    public boolean isAfter(Position o) {
        return compareTo(o) > 0;
    }

    @Override
    public String toString() {
        return Lsn.format(previousCommitLsn) + ">" + Lsn.format(lsn) + (seq == 0 ? "" : "#" + seq);
    }
}
