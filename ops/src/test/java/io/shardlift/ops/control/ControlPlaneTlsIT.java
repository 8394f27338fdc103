package io.shardlift.ops.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardlift.ops.ExitCodes;
import io.shardlift.ops.Main;
import io.shardlift.core.spec.ControlSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** control.tls: the control plane serves HTTPS only, and the status client trusts the configured certificate. */
class ControlPlaneTlsIT {

    @TempDir
    Path dir;

    @Test
    void servesHttpsAndTheStatusClientTrustsTheConfiguredCertificate() throws Exception {
        Path cert = dir.resolve("control.crt");
        Path key = dir.resolve("control.key");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(p.waitFor()).as(Files.readString(dir.resolve("openssl.log"))).isZero();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ControlSpec spec = new ControlSpec("127.0.0.1", port, "SHARDLIFT_TLS_TEST_UNSET",
                Optional.of(new ControlSpec.Tls(cert, key, Optional.empty())), false);
        TestBackend backend = new TestBackend();
        try (ControlPlane control = ControlPlane.start(spec, backend, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            Path f = dir.resolve("migrate.yml");
            Files.writeString(f, "version: \"1.0\"\nmigrate:\n  connstr: \"host=127.0.0.1 port=1 dbname=d user=postgres\"\n"
                    + "  schemas:\n    - name: public\n      tables:\n        - {name: t, type: global}\n"
                    + "cluster:\n  nodes:\n    - \"host=127.0.0.1 port=2 dbname=d user=postgres\"\n"
                    + "control:\n  listen: \"127.0.0.1:" + port + "\"\n  tls:\n    cert: \"" + cert + "\"\n    key: \"" + key + "\"\n");
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Main.run(new PrintWriter(out), new PrintWriter(err), "status", "--config", f.toString(), "--json");
            assertThat(code).as(err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(out.toString()).contains("COPYING");

            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            // plain HTTP gets no answer from a TLS port
            assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/live"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.io.IOException.class);
            // and the JVM's default trust store does not know the self-signed certificate
            assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/health/live"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.io.IOException.class);

            // without control.tls in the spec the client speaks plain HTTP and is refused: not a silent downgrade
            Files.writeString(f, Files.readString(f).replaceAll("(?s)  tls:.*", ""));
            StringWriter err2 = new StringWriter();
            int code2 = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err2), "status", "--config", f.toString());
            assertThat(code2).isEqualTo(ExitCodes.CONTROL);
            assertThat(err2.toString()).contains("http://127.0.0.1:" + port);
        }
    }
}
