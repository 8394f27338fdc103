package io.shardlift.core;

/** The source database could not be reached or read. The message names the source and what to check. */
public final class SourceException extends RuntimeException {
    public SourceException(String message, Throwable cause) {
        super(message, cause);
    }

    public SourceException(String message) {
        super(message);
    }
}
