package io.shardlift.ops.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = {"Asks the control plane of a running `shardlift run` to roll a cutover back while the rollback",
            "window is open: fence writes on the cluster, drain the reverse stream, verify, move the source's",
            "sequences, lift the source's write fence (the point of no return) and, with a pooler, point the aliases",
            "back at the source. Prints each step with its timing. The token is the cutover's (control.token_env).",
            "Refused (exit 7) when nothing is cut over or the rollback is done; a new cutover may follow it."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:rolled back (with --dry-run: every step would run)",
            "1:unexpected failure",
            "2:wrong command-line usage",
            "3:invalid spec, or the token variable is not set",
            "7:the control plane could not be reached or did not accept the request (token, one already running,",
            "  nothing cut over, or rolled back already)",
            "8:refused (e.g. reverse lag above the gate): nothing changed, try again later",
            "9:the rollback failed: its steps say how far it got"})
public final class RollbackCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--dry-run", description = "Walk every step and check its gates without changing anything.")
    boolean dryRun;

    @Option(names = "--timeout", defaultValue = "600", paramLabel = "SECONDS",
            description = "How long to wait for the rollback's answer, 1 to " + CutoverCommand.MAX_TIMEOUT_SECONDS
                    + " (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws InterruptedException {
        if (timeoutSeconds < 1 || timeoutSeconds > CutoverCommand.MAX_TIMEOUT_SECONDS) {
            throw new picocli.CommandLine.ParameterException(command.commandLine(), "--timeout must be 1 to "
                    + CutoverCommand.MAX_TIMEOUT_SECONDS + " seconds but is " + timeoutSeconds);
        }
        return CutoverCommand.ask(command, specOptions, "/rollback", "rollback", dryRun, timeoutSeconds);
    }
}
