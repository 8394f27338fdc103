package io.shardlift.core.spec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Reads and validates the {@code pooler:} section; every problem is reported, none stops the read. */
final class PoolerSection {

    /** What PgBouncer's admin console accepts unquoted after PAUSE and RESUME (\\w+), as in an include file. */
    private static final Pattern ALIAS = Pattern.compile("[A-Za-z0-9_]{1,63}");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m)");
    private static final String EXAMPLE = "pooler: {pgbouncer: [{admin: \"host=10.0.0.9 port=6432 dbname=pgbouncer "
            + "user=pgbouncer\", include_file: /etc/pgbouncer/shardlift-databases.ini, databases: [app]}]}";

    private final Problems problems;
    private final Fields fields;
    private final Function<At, ConnInfo> connInfo;

    PoolerSection(Problems problems, Fields fields, Function<At, ConnInfo> connInfo) {
        this.problems = problems;
        this.fields = fields;
        this.connInfo = connInfo;
    }

    Optional<PoolerSpec> read(ObjectNode pooler, int nodeCount) {
        if (pooler == null) {
            return Optional.empty();
        }
        fields.checkKeys(pooler, "pooler", SpecReader.POOLER_KEYS, "under pooler:");
        List<PoolerSpec.PgBouncerSpec> instances = readInstances(Fields.at(pooler, "pooler", "pgbouncer"));
        Duration pauseTimeout = duration(Fields.at(pooler, "pooler", "pause_timeout"), PoolerSpec.DEFAULT_PAUSE_TIMEOUT);
        At targetAt = Fields.at(pooler, "pooler", "target_node");
        int target = 0;
        if (!targetAt.blank()) {
            Integer t = fields.integer(targetAt, 0, Integer.MAX_VALUE, "the index of a cluster.nodes entry, e.g. target_node: 0");
            if (t != null && nodeCount > 0 && t >= nodeCount) {
                problems.add(targetAt.path(), targetAt.node(), "the cluster has " + nodeCount + " node"
                        + (nodeCount == 1 ? "" : "s") + " (cluster.nodes[0] to cluster.nodes[" + (nodeCount - 1)
                        + "]); target_node must be one of 0 to " + (nodeCount - 1));
            } else if (t != null) {
                target = t;
            }
        }
        return Optional.of(new PoolerSpec(instances, pauseTimeout, target));
    }

    private List<PoolerSpec.PgBouncerSpec> readInstances(At at) {
        List<PoolerSpec.PgBouncerSpec> out = new ArrayList<>();
        if (at.blank()) {
            problems.add(at.path(), Problems.show(at.node()), "list the PgBouncer instances in front of the source, or "
                    + "remove pooler: to cut over without one: " + EXAMPLE);
            return out;
        }
        if (!at.node().isArray() || at.node().isEmpty()) {
            problems.add(at.path(), at.node().isArray() ? "(an empty list)" : Problems.show(at.node()),
                    "must be a list with one entry per PgBouncer instance: " + EXAMPLE);
            return out;
        }
        Set<String> admins = new HashSet<>();
        for (int i = 0; i < at.node().size(); i++) {
            String path = Paths.index(at.path(), i);
            JsonNode n = at.node().get(i);
            if (!n.isObject()) {
                problems.add(path, n, "must be a mapping with admin:, include_file: and databases:");
                continue;
            }
            ObjectNode entry = (ObjectNode) n;
            fields.checkKeys(entry, path, SpecReader.PGBOUNCER_KEYS, "in a pgbouncer entry");
            ConnInfo admin = admin(Fields.at(entry, path, "admin"));
            Path include = includeFile(Fields.at(entry, path, "include_file"));
            List<String> databases = databases(Fields.at(entry, path, "databases"));
            if (admin != null && !admins.add(admin.host().toLowerCase(java.util.Locale.ROOT) + ":" + admin.port())) {
                problems.add(Paths.child(path, "admin"), Problems.quote(admin.masked()), "the same PgBouncer ("
                        + admin.host() + ":" + admin.port() + ") is listed twice; list each instance once");
            }
            if (admin != null && include != null && databases != null) {
                out.add(new PoolerSpec.PgBouncerSpec(admin, include, databases));
            }
        }
        return out;
    }

    private ConnInfo admin(At at) {
        if (at.blank()) {
            problems.add(at.path(), Problem.MISSING, "needs the connection string of the PgBouncer's admin console, e.g. "
                    + "admin: \"host=10.0.0.9 port=6432 dbname=pgbouncer user=pgbouncer\"");
            return null;
        }
        ConnInfo c = connInfo.apply(at);
        if (c != null && !c.dbname().equals("pgbouncer")) {
            problems.add(at.path(), Problems.quote(c.masked()), "must connect to the admin console: dbname=pgbouncer, "
                    + "not " + c.dbname() + " (the alias to switch goes in databases:)");
            return null;
        }
        return c;
    }

    private Path includeFile(At at) {
        if (at.blank()) {
            problems.add(at.path(), Problem.MISSING, "needs the absolute path of the file with the switched aliases' "
                    + "[databases] lines, which pgbouncer.ini pulls in with %include, e.g. "
                    + "include_file: /etc/pgbouncer/shardlift-databases.ini");
            return null;
        }
        String v = fields.text(at, "the absolute path of the include file");
        if (v == null) {
            return null;
        }
        Path p = Path.of(v.strip());
        if (!p.isAbsolute()) {
            problems.add(at.path(), at.node(), "must be an absolute path (PgBouncer's %include and shardlift must name "
                    + "the same file), e.g. include_file: /etc/pgbouncer/shardlift-databases.ini");
            return null;
        }
        return p.normalize();
    }

    private List<String> databases(At at) {
        if (at.blank() || !at.node().isArray() || at.node().isEmpty()) {
            problems.add(at.path(), at.blank() ? Problem.MISSING : at.node().isArray() ? "(an empty list)"
                    : Problems.show(at.node()), "list the aliases to switch from the source to the cluster, e.g. databases: [app]");
            return null;
        }
        List<String> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < at.node().size(); i++) {
            At a = new At(Paths.index(at.path(), i), at.node().get(i));
            String v = fields.text(a, "a PgBouncer database alias");
            if (v == null) {
                ok = false;
            } else if (!ALIAS.matcher(v).matches() || v.equals("pgbouncer")) {
                problems.add(a.path(), a.node(), v.equals("pgbouncer") ? "pgbouncer is the admin console, it cannot be switched"
                        : "must be a PgBouncer database alias of letters, digits and _ (at most 63), as PAUSE and RESUME accept it");
                ok = false;
            } else if (out.contains(v)) {
                problems.add(a.path(), a.node(), "listed twice in this instance's databases; list each alias once");
                ok = false;
            } else {
                out.add(v);
            }
        }
        return ok ? out : null;
    }

    private Duration duration(At at, Duration dflt) {
        if (at.blank()) {
            return dflt;
        }
        String v = fields.text(at, "a duration, e.g. pause_timeout: 2s");
        if (v == null) {
            return dflt;
        }
        Matcher m = DURATION.matcher(v.strip());
        Duration d = null;
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        }
        if (d == null || d.isZero()) {
            problems.add(at.path(), at.node(), "must be a positive duration with a unit (ms, s or m), e.g. pause_timeout: 2s "
                    + "or 500ms");
            return dflt;
        }
        return d;
    }
}
