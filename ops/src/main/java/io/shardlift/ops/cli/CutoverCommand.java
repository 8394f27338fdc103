package io.shardlift.ops.cli;

import io.shardlift.ops.ExitCodes;
import io.shardlift.ops.cutover.CutoverReport;
import io.shardlift.core.spec.ControlSpec;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "cutover", mixinStandardHelpOptions = true,
        header = "Asks a running `shardlift run` to cut over (or to rehearse it with --dry-run).",
        description = {"Asks the control plane of a running `shardlift run` (control.listen of the spec) to cut over:",
            "fence writes on the source, drain the changes, verify, move sequences, and switch. Prints each step",
            "with its timing and the write-freeze time. The token is read from the environment variable that",
            "control.token_env names (default SHARDLIFT_TOKEN), the same one shardlift run reads.",
            "A cutover runs once: after it is done every later request, dry runs too, is refused (exit 7)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:cut over (with --dry-run: every step would run)",
            "1:unexpected failure",
            "2:wrong command-line usage",
            "3:invalid spec, or the token variable is not set",
            "7:the control plane could not be reached or did not accept the request (token, one already running,",
            "  the cutover already done)",
            "8:refused (e.g. lag above the gate): nothing changed, try again later",
            "9:the cutover failed: its steps say how far it got"})
public final class CutoverCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--dry-run", description = {"Walk every step and check its gates without changing anything. It does take",
            "the source LOCK for a moment (writers wait for it) to prove the fence can be taken, then releases it."})
    boolean dryRun;

    @Option(names = "--timeout", defaultValue = "600", paramLabel = "SECONDS",
            description = "How long to wait for the cutover's answer, 1 to " + MAX_TIMEOUT_SECONDS + " (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    static final long MAX_TIMEOUT_SECONDS = 86_400;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws InterruptedException {
        return ask(command, specOptions, "/cutover", "cutover", dryRun, timeoutSeconds);
    }

    /** Asks the control plane for {@code endpoint} (POST /cutover or POST /rollback) and prints the answer. */
    static Integer ask(picocli.CommandLine.Model.CommandSpec command, SpecOptions specOptions, String endpoint, String name,
                       boolean dryRun, long timeoutSeconds) throws InterruptedException {
        PrintWriter out = command.commandLine().getOut();
        PrintWriter err = command.commandLine().getErr();
        if (timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
            throw new picocli.CommandLine.ParameterException(command.commandLine(), "--timeout must be 1 to " + MAX_TIMEOUT_SECONDS
                    + " seconds but is " + timeoutSeconds);
        }
        ControlSpec control = specOptions.load().control();
        String token = ControlClient.token(control, err);
        if (token == null) {
            return ExitCodes.CONFIG;
        }
        ControlClient client = new ControlClient(control);
        String what = dryRun ? name + " dry run" : name;
        ControlClient.Reply reply;
        try {
            reply = client.post(dryRun ? endpoint + "?dryRun=true" : endpoint, token, Duration.ofSeconds(timeoutSeconds));
        } catch (ControlClient.Unreachable e) {
            // refused or not reached: the request never arrived. Otherwise it did (a timeout, or the process died while
            // answering): the outcome is unknown and the operator must look before asking again
            boolean notSent = e.getCause() instanceof java.net.ConnectException
                    || e.getCause() instanceof java.net.http.HttpConnectTimeoutException;
            err.println("shardlift: " + e.getMessage() + (notSent ? ""
                    : e.getCause() instanceof java.net.http.HttpTimeoutException
                    ? "; the " + what + " may still be running: shardlift status shows its state"
                    : "; the " + what + "'s outcome is unknown (the control plane stopped answering): shardlift status shows"
                    + " its state once shardlift run is up again"));
            return ExitCodes.CONTROL;
        }
        Map<String, Object> body = reply.json();
        if (body.containsKey("outcome")) {
            CutoverReport result;
            try {
                result = CutoverReport.fromMap(body);
            } catch (IllegalArgumentException e) {
                err.println("shardlift: the control plane at " + client.where() + " answered " + reply.status()
                        + " with a result this shardlift cannot read: " + e.getMessage());
                return ExitCodes.INTERNAL;
            }
            out.print(render(what, client, result));
            out.flush();
            switch (result.outcome()) {
                case DONE:
                case DRY_RUN:
                    return ExitCodes.OK;
                case REFUSED:
                    err.println("shardlift: " + what + " refused: " + result.reason().orElse(""));
                    return ExitCodes.CUTOVER_REFUSED;
                default:
                    err.println("shardlift: " + what + " failed: " + result.reason().orElse(""));
                    return ExitCodes.CUTOVER_FAILED;
            }
        }
        switch (reply.status()) {
            case 401:
                err.println("shardlift: the control plane at " + client.where() + " refused the token in " + control.tokenEnv()
                        + ": " + reply.error());
                return ExitCodes.CONTROL;
            case 500:
                err.println("shardlift: " + what + " failed: " + reply.error());
                return ExitCodes.CUTOVER_FAILED;
            default:
                err.println("shardlift: the control plane at " + client.where() + " answered " + reply.status() + ": " + reply.error());
                return ExitCodes.CONTROL;
        }
    }

    static String render(String what, ControlClient client, CutoverReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append(what).append(" at ").append(client.base()).append(":\n");
        if (!r.steps().isEmpty()) {
            int width = Math.max(4, r.steps().stream().mapToInt(s -> s.name().length()).max().orElse(4));
            sb.append(String.format("  %-" + width + "s  %-11s %8s  %s%n", "step", "status", "ms", "detail"));
            for (CutoverReport.Step s : r.steps()) {
                sb.append(String.format("  %-" + width + "s  %-11s %,8d  %s%n", s.name(), s.status().name().toLowerCase(java.util.Locale.ROOT),
                        s.millis(), s.detail()).stripTrailing()).append('\n');
            }
        }
        sb.append("result: ").append(r.outcome().wire()).append(r.dryRun() ? " (dry run)" : "");
        r.reason().ifPresent(reason -> sb.append(": ").append(reason));
        sb.append(String.format("; steps %,d ms, writes frozen %,d ms", r.stepsMs(), r.freezeMillis()));
        r.poolerPauseMillis().ifPresent(ms -> sb.append(String.format(", clients paused in PgBouncer %,d ms", ms)));
        sb.append('\n');
        r.probe().ifPresent(p -> sb.append(p.describe()).append('\n'));
        return sb.toString();
    }
}
