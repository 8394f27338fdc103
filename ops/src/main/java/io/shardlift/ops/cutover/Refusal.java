package io.shardlift.ops.cutover;

/**
 * A step found it cannot go on now (the gate, the stream too slow, the content in doubt, the tables held too long);
 * nothing was fenced by it. The cutover is refused (or, once the source was fenced, rolled back), to be asked again.
 */
final class Refusal extends RuntimeException {

    final String step;
    /** What the step's line in the report says; the message is the cutover's reason. */
    final String detail;

    Refusal(String step, String message) {
        this(step, message, message);
    }

    Refusal(String step, String message, String detail) {
        super(message);
        this.step = step;
        this.detail = detail;
    }
}
