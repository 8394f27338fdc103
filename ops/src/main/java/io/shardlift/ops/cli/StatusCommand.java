package io.shardlift.ops.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.shardlift.ops.ExitCodes;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true,
        header = "Asks a running `shardlift run` for the migration's status.",
        description = {"Asks the control plane of a running `shardlift run` (control.listen of the spec) for the",
            "migration's status: phase, copy progress per table, lags, rates, last error, cutover state."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:status printed",
            "1:unexpected failure",
            "2:wrong command-line usage",
            "3:invalid spec",
            "7:the control plane could not be reached or answered with an error"})
public final class StatusCommand implements Callable<Integer> {

    static final Duration TIMEOUT = Duration.ofSeconds(15);

    @Mixin
    SpecOptions specOptions;

    @Option(names = "--json", description = "Print the status as the control plane returns it (JSON).")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec command;

    @Override
    public Integer call() throws InterruptedException, JsonProcessingException {
        PrintWriter out = command.commandLine().getOut();
        PrintWriter err = command.commandLine().getErr();
        ControlClient client = new ControlClient(specOptions.load().control());
        ControlClient.Reply reply;
        try {
            reply = client.get("/status", TIMEOUT);
        } catch (ControlClient.Unreachable e) {
            err.println("shardlift: " + e.getMessage());
            return ExitCodes.CONTROL;
        }
        if (reply.status() != 200) {
            err.println("shardlift: the control plane at " + client.where() + " answered " + reply.status() + ": " + reply.error());
            return ExitCodes.CONTROL;
        }
        Map<String, Object> status = reply.json();
        if (json) {
            out.println(ControlClient.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(status));
        } else {
            out.print(StatusReport.render(status));
        }
        out.flush();
        return ExitCodes.OK;
    }
}
