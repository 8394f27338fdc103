package io.shardlift.ops.cli;

import java.io.PrintWriter;
import java.util.function.Supplier;

/** Prints a progress line every few seconds until interrupted. */
final class ProgressTicker {

    private ProgressTicker() {
    }

    static Thread start(Supplier<String> line, PrintWriter err, int intervalSeconds) {
        Thread t = new Thread(() -> {
            if (intervalSeconds <= 0) {
                return;
            }
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(intervalSeconds * 1000L);
                    err.println(line.get());
                    err.flush();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shardlift-progress");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
