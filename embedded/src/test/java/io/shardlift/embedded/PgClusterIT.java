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
