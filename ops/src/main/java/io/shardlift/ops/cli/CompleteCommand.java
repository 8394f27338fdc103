package io.shardlift.ops.cli;

import io.shardlift.core.spec.ControlSpec;
import io.shardlift.ops.ExitCodes;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "complete", mixinStandardHelpOptions = true,
        description = {"Asks the control plane of a running `shardlift run` to close the rollback window after a cutover:",
            "the reverse stream stops, its slots and publications are dropped on the nodes, the forward slot and",
            "publication on the source; then no rollback is possible any more. Prints what it did and what is left",
            "on the source, with how to remove it. Refused (exit 7) while a cutover or a rollback runs, when nothing",
            "is cut over, or when the window was closed already."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:the rollback window is closed",
            "1:unexpected failure",
            "2:wrong command-line usage",
            "3:invalid spec, or the token variable is not set",
            "7:the control plane could not be reached or refused the request",
            "9:complete failed: the message says what is left"})
public final class CompleteCommand implements Callable<Integer> {

    @Mixin
    SpecOptions specOptions;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = command.commandLine().getOut();
        PrintWriter err = command.commandLine().getErr();
        ControlSpec control = specOptions.load().control();
        String token = ControlClient.token(control, err);
        if (token == null) {
            return ExitCodes.CONFIG;
        }
        ControlClient client = new ControlClient(control);
        ControlClient.Reply reply;
        try {
            reply = client.post("/complete", token, Duration.ofMinutes(10));
        } catch (ControlClient.Unreachable e) {
            err.println("shardlift: " + e.getMessage());
            return ExitCodes.CONTROL;
        }
        Map<String, Object> body = reply.json();
        if (reply.status() == 200) {
            out.println("rollback window closed (cutover " + body.get("cutover") + "):");
            for (Object d : (List<?>) body.getOrDefault("done", List.of())) {
                out.println("  done: " + d);
            }
            out.println("left on the source:");
            for (Object l : (List<?>) body.getOrDefault("leftOnSource", List.of())) {
                out.println("  - " + l);
            }
            out.flush();
            return ExitCodes.OK;
        }
        if (reply.status() == 500) {
            err.println("shardlift: complete failed: " + reply.error());
            return ExitCodes.CUTOVER_FAILED;
        }
        err.println("shardlift: the control plane at " + client.where() + " answered " + reply.status() + ": " + reply.error());
        return ExitCodes.CONTROL;
    }
}
