package io.shardlift.ops.workflow;

/** The embedded broker's data directory cannot be used by this migration; the message says what to do. */
public final class DataDirException extends RuntimeException {

    DataDirException(String message) {
        super(message);
    }
}
