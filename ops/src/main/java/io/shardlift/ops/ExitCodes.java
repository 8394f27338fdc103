package io.shardlift.ops;

/** Exit codes, one per failure domain, so scripts can tell what to fix. Part of the interface. */
public final class ExitCodes {
    public static final int OK = 0;
    /** A bug or an unexpected failure: the message and the log say more. */
    public static final int INTERNAL = 1;
    /** Wrong command-line usage (picocli's own). */
    public static final int USAGE = 2;
    /**
     * The spec is invalid, the source schema cannot be laid out as the spec asks, or control.listen cannot be bound:
     * nothing was written.
     */
    public static final int CONFIG = 3;
    /** The source could not be reached or read, or lacks what the migration needs (wal_level, privileges, a free slot). */
    public static final int SOURCE = 4;
    /** A cluster node could not be reached, refused the layout, or lacks what it needs (UTF8, privileges). */
    public static final int TARGET = 5;
    /** {@code verify} found rows that differ between the source and the cluster. */
    public static final int DIFFERENCES = 6;
    /** The control plane could not be reached, or did not accept the request (token, one already running). */
    public static final int CONTROL = 7;
    /** The cutover was refused by a gate (e.g. lag too high): nothing changed, try again later. */
    public static final int CUTOVER_REFUSED = 8;
    /** The cutover failed: its steps say how far it got. */
    public static final int CUTOVER_FAILED = 9;
    /** The Kafka broker cannot be used: an external one does not answer, or the embedded one cannot write its data. */
    public static final int BROKER = 10;

    private ExitCodes() {
    }
}
