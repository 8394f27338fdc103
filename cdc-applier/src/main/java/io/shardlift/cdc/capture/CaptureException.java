package io.shardlift.cdc.capture;

/** A capture failure whose message is meant for the operator; it stops the engine. */
final class CaptureException extends RuntimeException {
    CaptureException(String message) {
        super(message);
    }

    CaptureException(String message, Throwable cause) {
        super(message, cause);
    }
}
