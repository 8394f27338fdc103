package io.shardlift.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;

class PgClusterIT {

    @Test
    void startsSourceAndNodesWithLogicalDecodingAndStopsThemAll() throws Exception {
        PgCluster cluster = PgCluster.start("kit", 2, "demo");
        long pid;
        try {
            assertThat(cluster.nodes()).hasSize(2);
            try (Connection c = cluster.source().connect("demo"); ResultSet rs = c.createStatement()
                    .executeQuery("SELECT current_setting('wal_level'), current_setting('synchronous_commit'), "
                            + "(SELECT count(*) FROM pg_available_extensions WHERE name IN ('postgres_fdw'))")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("logical");
                assertThat(rs.getString(2)).isEqualTo("on");
                assertThat(rs.getInt(3)).isEqualTo(1);
            }
            assertThat(cluster.source().dataDir()).startsWith(EmbeddedDir.baseDir());
            // copied from one template, each server still has a system identifier of its own, and a WAL that agrees
            java.util.Set<String> systems = new java.util.HashSet<>();
            for (PgNode n : java.util.stream.Stream.concat(java.util.stream.Stream.of(cluster.source()), cluster.nodes().stream()).toList()) {
                try (Connection c = n.connect("demo"); ResultSet rs = c.createStatement().executeQuery(
                        "SELECT system_identifier::text, pg_switch_wal() IS NOT NULL FROM pg_control_system()")) {
                    rs.next();
                    systems.add(rs.getString(1));
                }
                assertThat(n.dataDir()).as("a node's data directory is its own").exists();
            }
            assertThat(systems).hasSize(3);
            pid = cluster.nodes().get(0).postmasterPid().orElseThrow();
            assertThat(ProcessHandle.of(pid)).isPresent();
        } finally {
            cluster.close();
        }
        // no process leak: the postmaster is gone once the cluster is closed
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(15, java.util.concurrent.TimeUnit.SECONDS).join());
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }

    @Test
    void dataDirectoriesGoWithTheirNodes() throws Exception {
        java.nio.file.Path dir;
        try (PgNode node = PgNode.start("gone")) {
            dir = node.dataDir();
            assertThat(dir.resolve("PG_VERSION")).exists();
        }
        assertThat(dir).doesNotExist();
    }

    @Test
    void restartKeepsDataAndPortAndDropsSessions() throws Exception {
        try (PgNode node = PgNode.start("restart")) {
            node.createDatabase("demo");
            node.execute("demo", "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1), (2)");
            int port = node.port();
            Connection before = node.connect("demo");
            node.restart();
            assertThat(node.port()).isEqualTo(port);
            assertThat(before.isValid(2)).isFalse(); // the old session was cut
            before.close();
            try (Connection c = node.connect("demo"); ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
        }
    }
}
