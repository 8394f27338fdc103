package io.shardlift.core;

/** A cluster node could not be reached, or refused the layout. The message names the node and the fix. */
public final class TargetException extends RuntimeException {
    public TargetException(String message, Throwable cause) {
        super(message, cause);
    }

    public TargetException(String message) {
        super(message);
    }
}
