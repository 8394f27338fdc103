package io.shardlift.core.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** shardlift's own optional sections: {@code kafka:}, {@code replication:} and {@code control:}. */
final class InfraSections {

    private static final Pattern PG_IDENT = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern TOPIC_PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    private static final Pattern HOSTNAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?");

    private final Problems problems;
    private final Fields fields;

    InfraSections(Problems problems, Fields fields) {
        this.problems = problems;
        this.fields = fields;
    }

    KafkaSpec readKafka(ObjectNode kafka) {
        KafkaSpec d = KafkaSpec.defaults();
        if (kafka == null) {
            return d;
        }
        fields.checkKeys(kafka, "kafka", SpecReader.KAFKA_KEYS, "under kafka:");
        At bootAt = Fields.at(kafka, "kafka", "bootstrap");
        String bootstrap = KafkaSpec.EMBEDDED;
        boolean embedded = true;
        if (!bootAt.blank()) {
            String b = fields.text(bootAt, "embedded, or host:port,host:port");
            if (b != null && !b.strip().equalsIgnoreCase(KafkaSpec.EMBEDDED)) {
                List<String> bad = new ArrayList<>();
                List<String> servers = new ArrayList<>();
                for (String server : b.split(",", -1)) {
                    String s = server.strip();
                    if (hostPort(s) == null) {
                        bad.add(s.isEmpty() ? "(empty)" : "\"" + s + "\"");
                    }
                    servers.add(s);
                }
                if (!bad.isEmpty()) {
                    problems.add(bootAt.path(), bootAt.node(), "must be embedded (shardlift runs its own broker) or a comma "
                            + "list of host:port, e.g. kafka1:9092,kafka2:9092; not host:port: " + String.join(", ", bad));
                }
                bootstrap = String.join(",", servers);
                embedded = false;
            }
        }
        int partitions = fields.intIn(Fields.at(kafka, "kafka", "topic_partitions"), 1, Integer.MAX_VALUE, d.topicPartitions(),
                "partitions per change topic, e.g. topic_partitions: 8");
        At rfAt = Fields.at(kafka, "kafka", "replication_factor");
        int rf = fields.intIn(rfAt, 1, Short.MAX_VALUE, d.replicationFactor(), "copies of each change topic, e.g. replication_factor: 3");
        if (embedded && rf > 1) {
            problems.add(rfAt.path(), rfAt.node(), "the embedded broker is a single broker, so replication_factor must be 1; "
                    + "remove it, or give bootstrap: the servers of a cluster with at least " + rf + " brokers");
        }
        At prefixAt = Fields.at(kafka, "kafka", "topic_prefix");
        String prefix = d.topicPrefix();
        if (!prefixAt.blank()) {
            String p = fields.text(prefixAt, "the prefix of shardlift's topic names");
            if (p != null && !TOPIC_PREFIX.matcher(p).matches()) {
                problems.add(prefixAt.path(), prefixAt.node(), "a Kafka topic prefix may use only letters, digits, '.', "
                        + "'_' and '-' (1 to 200 of them), e.g. topic_prefix: shardlift");
            } else if (p != null) {
                prefix = p;
            }
        }
        return new KafkaSpec(embedded, bootstrap, partitions, (short) rf, prefix);
    }

    /** {@code host:port} or {@code [v6]:port} with port 1..65535: host and port, or null if it is not that. */
    static Map.Entry<String, Integer> hostPort(String s) {
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf("]:");
            if (close < 0) {
                return null;
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
            if (host.isEmpty() || !host.matches("[0-9A-Fa-f:.]+(%\\w+)?")) {
                return null;
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0) {
                return null;
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (!HOSTNAME.matcher(host).matches()) {
                return null;
            }
        }
        if (!port.matches("\\d{1,5}")) {
            return null;
        }
        int p = Integer.parseInt(port);
        return p >= 1 && p <= 65535 ? Map.entry(host, p) : null;
    }

    ReplicationSpec readReplication(ObjectNode replication) {
        ReplicationSpec d = ReplicationSpec.defaults();
        if (replication == null) {
            return d;
        }
        fields.checkKeys(replication, "replication", SpecReader.REPLICATION_KEYS, "under replication:");
        String slot = identifier(Fields.at(replication, "replication", "slot"), "replication slot", d.slot());
        String publication = identifier(Fields.at(replication, "replication", "publication"), "publication", d.publication());
        return new ReplicationSpec(slot, publication, ddlMode(Fields.at(replication, "replication", "ddl"), d.ddl()));
    }

    private ReplicationSpec.Ddl ddlMode(At at, ReplicationSpec.Ddl dflt) {
        if (at.blank()) {
            return dflt;
        }
        String v = fields.text(at, "replicate or stop");
        if (v == null) {
            return dflt;
        }
        for (ReplicationSpec.Ddl d : ReplicationSpec.Ddl.values()) {
            if (d.key().equals(v)) {
                return d;
            }
        }
        problems.add(at.path(), at.node(), "replication.ddl must be 'replicate' (carry schema changes of migrated tables to"
                + " every node) or 'stop' (stop the stream at the first change of shape)");
        return dflt;
    }

    private String identifier(At at, String what, String dflt) {
        if (at.blank()) {
            return dflt;
        }
        String v = fields.text(at, "a " + what + " name");
        if (v == null) {
            return dflt;
        }
        if (!PG_IDENT.matcher(v).matches()) {
            problems.add(at.path(), at.node(), "a " + what + " name must be a plain PostgreSQL identifier: lowercase "
                    + "letters, digits and _, starting with a letter or _, at most 63 characters; e.g. "
                    + suggestIdentifier(v, dflt));
            return dflt;
        }
        return v;
    }

    private static String suggestIdentifier(String v, String dflt) {
        String s = v.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (s.isEmpty() || Character.isDigit(s.charAt(0))) {
            s = "_" + s;
        }
        if (s.length() > 63) {
            s = s.substring(0, 63);
        }
        return s.replace("_", "").isEmpty() ? dflt : s;
    }

    ControlSpec readControl(ObjectNode control) {
        ControlSpec d = ControlSpec.defaults();
        if (control == null) {
            return d;
        }
        fields.checkKeys(control, "control", SpecReader.CONTROL_KEYS, "under control:");
        String host = d.host();
        int port = d.port();
        At listenAt = Fields.at(control, "control", "listen");
        if (!listenAt.blank()) {
            String l = listenAt.node().isTextual() ? listenAt.node().textValue().strip() : null;
            Map.Entry<String, Integer> hp = l == null ? null : hostPort(l);
            if (hp == null) {
                String hint = l != null && l.chars().filter(c -> c == ':').count() > 1 && !l.startsWith("[")
                        ? " (an IPv6 address goes in brackets: [::1]:8080)" : "";
                problems.add(listenAt.path(), listenAt.node(), "must be host:port with a port from 1 to 65535, e.g. "
                        + "listen: 127.0.0.1:8080, or 0.0.0.0:8443 with control.tls for every interface" + hint);
            } else {
                host = hp.getKey();
                port = hp.getValue();
            }
        }
        At tokenAt = Fields.at(control, "control", "token_env");
        String tokenEnv = d.tokenEnv();
        if (!tokenAt.blank()) {
            String t = fields.text(tokenAt, "the name of the environment variable holding the cutover token");
            if (t != null && !ENV_NAME.matcher(t).matches()) {
                // it may be the token itself, written here by mistake: never echo it
                problems.add(tokenAt.path(), ConnInfo.MASK, "must be the NAME of an environment variable (letters, digits "
                        + "and _, not starting with a digit), e.g. token_env: SHARDLIFT_TOKEN; the token itself is "
                        + "never written in the spec");
            } else if (t != null) {
                tokenEnv = t;
            }
        }
        com.fasterxml.jackson.databind.JsonNode tlsNode = control.get("tls");
        java.util.Optional<ControlSpec.Tls> tls = java.util.Optional.empty();
        if (tlsNode != null && !tlsNode.isNull()) {
            if (tlsNode.isObject()) {
                tls = readTls((ObjectNode) tlsNode);
            } else {
                problems.add("control.tls", tlsNode, "must be a mapping: cert: and key: (PEM files), optionally ca:");
            }
        }
        At plainAt = Fields.at(control, "control", "allow_plain_http");
        boolean allowPlain = false;
        if (!plainAt.blank()) {
            Boolean b = fields.bool(plainAt, "true accepts plain HTTP on a non-loopback control.listen");
            allowPlain = b != null && b;
        }
        if (tls.isEmpty() && !allowPlain && !ControlSpec.loopback(host)) {
            // status, metrics and the cutover's token would cross the network in clear text
            problems.add(listenAt.path(), listenAt.node(), "is not a loopback address, so status, metrics and the cutover"
                    + " token would travel over plain HTTP to anyone on the network: configure control.tls (cert: and key:,"
                    + " PEM files) to serve HTTPS, or set control.allow_plain_http: true to accept plain HTTP, or listen on"
                    + " 127.0.0.1");
        }
        return new ControlSpec(host, port, tokenEnv, tls, allowPlain);
    }

    private java.util.Optional<ControlSpec.Tls> readTls(ObjectNode tls) {
        if (tls == null) {
            return java.util.Optional.empty();
        }
        fields.checkKeys(tls, "control.tls", SpecReader.CONTROL_TLS_KEYS, "under control.tls:");
        java.nio.file.Path cert = pemPath(Fields.at(tls, "control.tls", "cert"), true, "the server certificate, e.g. cert: /etc/shardlift/control.crt");
        java.nio.file.Path key = pemPath(Fields.at(tls, "control.tls", "key"), true, "its private key, e.g. key: /etc/shardlift/control.key");
        java.nio.file.Path ca = pemPath(Fields.at(tls, "control.tls", "ca"), false, "the CA certificate status and cutover trust");
        if (cert == null || key == null) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new ControlSpec.Tls(cert, key, java.util.Optional.ofNullable(ca)));
    }

    private java.nio.file.Path pemPath(At at, boolean required, String what) {
        if (at.blank()) {
            if (required) {
                problems.add(at.path(), Problem.MISSING, "needs the path of a PEM file: " + what);
            }
            return null;
        }
        String v = fields.text(at, "the path of a PEM file: " + what);
        return v == null || v.isBlank() ? null : java.nio.file.Path.of(v.strip());
    }
}
