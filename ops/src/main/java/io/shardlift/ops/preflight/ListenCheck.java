package io.shardlift.ops.preflight;

import io.shardlift.ops.preflight.Preflight.Domain;
import io.shardlift.ops.preflight.Preflight.Report;
import io.shardlift.core.spec.ControlSpec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The control plane's address: bindable now. Found at start, a taken port would stop {@code run} after the slot
 * exists and the copy has begun.
 */
final class ListenCheck {

    private ListenCheck() {
    }

    static void check(ControlSpec control, Report report) {
        control.tls().ifPresent(tls -> {
            readable(tls.cert(), "control.tls.cert", report);
            readable(tls.key(), "control.tls.key", report);
            tls.ca().ifPresent(ca -> readable(ca, "control.tls.ca", report));
        });
        if (control.port() == 0) {
            report.passed("control.listen " + control.listen() + ": any free port");
            return;
        }
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(control.host(), control.port()));
            report.passed("control.listen " + control.listen() + ": free");
        } catch (IOException | RuntimeException e) {
            report.problem(Domain.CONTROL, "control.listen " + control.listen() + ": cannot listen there (" + e.getMessage()
                    + ") — another process holds the port, or the address is not one of this host; choose a free"
                    + " address:port for control.listen");
        }
    }

    private static void readable(Path file, String key, Report report) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            report.problem(Domain.CONTROL, key + " " + file.toAbsolutePath() + ": " + (Files.exists(file) ? "cannot be read by this user"
                    : "no such file") + " — give the path of a readable PEM file");
        }
    }
}
