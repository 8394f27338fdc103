package io.shardlift.embedded;

import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.utils.Exit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an in-process broker from ending the JVM. The broker's fatal-fault handlers (metadata faults,
 * all log directories failed) call Kafka's {@link Exit}, which by default runs System.exit or
 * Runtime.halt: in a test JVM or the demo that kills every other test and stage with it. Installed once
 * per JVM, it turns such a call into a logged error and an exception in the failing broker thread.
 * Only Kafka's own {@code Exit} is affected, never {@code System.exit}.
 */
final class KafkaExitGuard {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaExitGuard.class);
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();

    private KafkaExitGuard() {
    }

    static void install() {
        if (INSTALLED.compareAndSet(false, true)) {
            Exit.setExitProcedure((status, message) -> refuse("exit", status, message));
            Exit.setHaltProcedure((status, message) -> refuse("halt", status, message));
        }
    }

    private static void refuse(String what, int status, String message) {
        String text = "an in-process Kafka broker asked the JVM to " + what + " with status " + status
                + (message == null ? "" : " (" + message + ")") + "; refused, the broker is now unusable";
        LOG.error(text);
        throw new IllegalStateException(text);
    }
}
