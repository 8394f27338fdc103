package io.shardlift.ops;

import io.shardlift.core.ledger.Markers;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.testkit.Datasets;
import io.shardlift.embedded.PgCluster;
import io.shardlift.embedded.PgNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

/** What the end-to-end tests check after a migration: the marker went through, and the rows are equal. */
final class Migrations {

    static final Map<String, List<String>> KEYS = Map.of(
            "public.device_types", List.of("device_type_id"),
            "public.settings", List.of("name"),
            "public.devices", List.of("device_id"),
            "public.device_notes", List.of("device_id"),
            "public.events", List.of("event_id"));

    private Migrations() {
    }

    /** Emits a marker into the source WAL and waits until every partition of every topic applied past it. */
    static void awaitMarker(PgCluster cluster, String db, String marker, int partitionsTotal, long timeoutSeconds) throws Exception {
        try (Connection c = cluster.source().connect(db); Statement st = c.createStatement()) {
            Markers.emit(c, marker);
        }
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        long seen = 0;
        while (System.nanoTime() < deadline) {
            try (Connection c = cluster.nodes().get(0).connect(db)) {
                seen = Markers.count(c, marker);
                if (seen >= partitionsTotal) {
                    return;
                }
            } catch (SQLException notYet) {
                // control schema not there yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("marker " + marker + " reached " + seen + " of " + partitionsTotal + " partitions in " + timeoutSeconds + " s");
    }

    /** Source and cluster equal, row by row, seen through every node. */
    static void assertEqual(PgCluster cluster, String db) throws SQLException {
        StringBuilder dups = new StringBuilder();
        try (Connection c = cluster.nodes().get(0).connect(db); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT event_id, array_agg(tableoid::regclass::text), array_agg(device_id),"
                     + " array_agg(payload::text) FROM public.events GROUP BY 1 HAVING count(*) > 1 LIMIT 5")) {
            while (rs.next()) {
                dups.append("\n  event ").append(rs.getLong(1)).append(" in ").append(rs.getString(2)).append(" devices ")
                        .append(rs.getString(3)).append(" payloads ").append(rs.getString(4));
            }
        }
        if (dups.length() > 0) {
            try (Connection c = cluster.source().connect(db); Statement st = c.createStatement()) {
                for (String line : dups.toString().split("\n")) {
                    if (line.isBlank()) {
                        continue;
                    }
                    String id = line.trim().split(" ")[1];
                    try (ResultSet rs = st.executeQuery("SELECT device_id, payload::text FROM public.events WHERE event_id = " + id)) {
                        dups.append("\n  source ").append(id).append(": ").append(rs.next() ? rs.getInt(1) + " " + rs.getString(2) : "(none)");
                    }
                }
            }
            throw new AssertionError("events on the cluster more than once:" + dups);
        }
        try (Connection src = cluster.source().connect(db)) {
            for (PgNode n : cluster.nodes()) {
                try (Connection dst = n.connect(db)) {
                    for (var e : KEYS.entrySet()) {
                        assertThat(Datasets.diffRows(src, dst, e.getKey(), e.getValue(), 20))
                                .as(e.getKey() + " seen from " + n.name()).isEmpty();
                    }
                }
            }
        }
    }
}
