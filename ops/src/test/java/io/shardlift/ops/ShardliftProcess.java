package io.shardlift.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real shardlift program as a child process, for tests that kill it. */
final class ShardliftProcess {

    private final Process process;
    private final Path log;

    private ShardliftProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static Path jar() {
        Path jar = Path.of("target", "shardlift.jar").toAbsolutePath();
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: integration tests run after `package`");
        }
        return jar;
    }

    static ShardliftProcess start(Path log, String... args) throws IOException {
        return start(log, java.util.Map.of(), args);
    }

    /** With extra environment variables (e.g. the cutover token's). */
    static ShardliftProcess start(Path log, java.util.Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        // a test that fails before its kill() must not leave the program running after the test JVM exits
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly, "kill-shardlift-" + p.pid()));
        return new ShardliftProcess(p, log);
    }

    /** SIGTERM: what a service manager sends; `run` stops cleanly and resumes on its next start. */
    void terminate() {
        process.destroy();
    }

    /** SIGKILL: no shutdown hook, no cleanup, no last commit. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** For failure messages: whether it runs, or how it ended, and its log. */
    String describe() throws IOException {
        return (process.isAlive() ? "running" : "exited with " + process.exitValue()) + "; log:\n" + Files.readString(log);
    }

    int waitFor(long seconds) throws InterruptedException, IOException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("shardlift did not finish in " + seconds + " s; log:\n" + Files.readString(log));
        }
        return process.exitValue();
    }

    long pid() {
        return process.pid();
    }
}
