package io.shardlift.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The Grafana board's shape, and its queries against the README's metrics table. That every metric it queries is on a
 * live /metrics is DashboardIT's to check, during a real migration.
 */
class GrafanaBoardTest {

    @Test
    void everyPanelQueriesPrometheusThroughTheBoardsDatasourceVariable() throws Exception {
        JsonNode board = GrafanaBoard.load();
        assertThat(board.path("uid").asText()).isEqualTo("shardlift-migration");
        int panels = 0;
        for (JsonNode p : board.path("panels")) {
            if (p.path("type").asText().equals("row")) {
                continue;
            }
            panels++;
            assertThat(p.path("datasource").path("uid").asText()).as(p.path("title").asText()).isEqualTo("${datasource}");
            assertThat(p.path("targets")).as(p.path("title").asText()).isNotEmpty();
            for (JsonNode t : p.path("targets")) {
                assertThat(t.path("expr").asText()).as(p.path("title").asText()).contains("shardlift_", "instance=~\"$instance\"");
            }
        }
        assertThat(panels).isGreaterThanOrEqualTo(10);
    }

    @Test
    void everyMetricTheBoardQueriesIsInTheReadmesTable() throws Exception {
        TreeSet<String> queried = GrafanaBoard.queried(GrafanaBoard.load());
        // lag, rates, copy progress and the cutover's pause: what an operator watches
        assertThat(queried).contains("shardlift_lag_end_to_end_seconds", "shardlift_apply_node_lag_seconds", "shardlift_copy_rows_total",
                "shardlift_copy_rows_estimated", "shardlift_apply_rows_total", "shardlift_capture_events_total",
                "shardlift_cutover_write_freeze_seconds", "shardlift_cutover_pooler_pause_seconds");
        TreeSet<String> documented = GrafanaBoard.documented();
        // a histogram's or timer's series are documented under its base name
        TreeSet<String> missing = new TreeSet<>();
        for (String q : queried) {
            String base = q.replaceAll("_(sum|count|max|bucket)$", "");
            if (!documented.contains(q) && !documented.contains(base)) {
                missing.add(q);
            }
        }
        assertThat(missing).as("metrics the board queries that README.md's metrics table does not list").isEmpty();
    }
}
