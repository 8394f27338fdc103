package io.shardlift.core.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlift.core.TableId;
import io.shardlift.core.catalog.ColumnInfo;
import io.shardlift.core.catalog.KeyConstraint;
import io.shardlift.core.catalog.TableInfo;
import io.shardlift.core.spec.MigrationSpec;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class GlobalFanoutTest {

    static final TableId ODD = new TableId("My schema", "odd \"t\"");

    static ColumnInfo column(String name, int attnum, String type, Optional<String> generated) {
        return new ColumnInfo(name, attnum, type, type, 'b', "pg_catalog", true, Optional.empty(), '0', generated,
                Optional.empty(), true, Optional.empty());
    }

    static TablePlan odd() {
        KeyConstraint pk = new KeyConstraint("odd_pkey", KeyConstraint.Kind.PRIMARY_KEY, List.of("a", "b\""), false, false);
        TableInfo info = new TableInfo(ODD, 'r', 'd', List.of(column("a", 1, "integer", Optional.empty()),
                column("b\"", 2, "text", Optional.empty()), column("twice", 3, "integer", Optional.of("(a * 2)"))),
                Optional.of(pk), List.of(), List.of(), List.of(), List.of(), List.of(), 10, 8192);
        return new TablePlan(ODD, TableKind.REFERENCE, info, List.of(), List.of(), 1, ODD, pk, List.of(), List.of(), 1);
    }

    static MigrationSpec spec(int nodes) {
        String list = java.util.stream.IntStream.range(0, nodes)
                .mapToObj(k -> "    - \"host=127.0.0.1 port=" + (5400 + k) + " dbname=d user=u password=s3cret\"").collect(Collectors.joining("\n"));
        return Specs.parse("version: \"1.0\"\nmigrate:\n  connstr: \"host=127.0.0.1 port=5399 dbname=d user=u\"\n  schemas:\n"
                + "    - name: My schema\n      tables:\n        - {name: 'odd \"t\"', type: global}\n"
                + "cluster:\n  nodes:\n" + list + "\nkafka:\n  bootstrap: embedded\n");
    }

    static List<Ddl> ddl(int nodes, int node) {
        MigrationSpec spec = spec(nodes);
        return new GlobalFanout(new LayoutDdl(spec, List.of(odd()), List.of(), List.of()), List.of(odd()), node, nodes, spec.nodes()).ddl();
    }

    @Test
    void oneNodeHasNothingToFanOutTo() {
        assertThat(ddl(1, 0)).isEmpty();
    }

    @Test
    void eachOtherNodeGetsAWriteAndALockServerWithMaskedMappingsAndAForeignCopy() {
        String all = ddl(3, 1).stream().map(Ddl::display).collect(Collectors.joining(";\n"));
        assertThat(all)
                .contains("CREATE SERVER IF NOT EXISTS \"shardlift_fanout_0\"", "CREATE SERVER IF NOT EXISTS \"shardlift_fanout_2\"",
                        "CREATE SERVER IF NOT EXISTS \"shardlift_lock_0\"", "CREATE SERVER IF NOT EXISTS \"shardlift_lock_2\"",
                        "options '-c shardlift.fanout=on -c lock_timeout=10s', parallel_commit 'true'", "password '******'")
                .doesNotContain("shardlift_fanout_1\"", "shardlift_lock_1\"", "s3cret")
                // the generated column is computed on each copy, never sent
                .contains("CREATE FOREIGN TABLE IF NOT EXISTS \"shardlift_fanout\".\"My schema.odd \"\"t\"\"@2\" (\n  \"a\" integer,\n"
                        + "  \"b\"\"\" text\n) SERVER \"shardlift_fanout_2\" OPTIONS (schema_name 'My schema', table_name 'odd \"t\"')")
                .contains("UPDATE \"shardlift_fanout\".\"My schema.odd \"\"t\"\"@0\" SET \"a\" = NEW.\"a\", \"b\"\"\" = NEW.\"b\"\"\""
                        + " WHERE \"a\" = OLD.\"a\" AND \"b\"\"\" = OLD.\"b\"\"\";")
                .contains("TRUNCATE \"shardlift_fanout\".\"My schema.odd \"\"t\"\"@0\", \"shardlift_fanout\".\"My schema.odd \"\"t\"\"@2\" CASCADE")
                .contains("WHEN (current_setting('shardlift.fanout', true) IS DISTINCT FROM 'on')");
        // the lock is taken on every node in node order, this node's own row locally
        int n0 = all.indexOf("FROM \"shardlift_fanout\".\"lock@0\" WHERE");
        int n1 = all.indexOf("FROM \"shardlift\".\"fanout_lock\" WHERE");
        int n2 = all.indexOf("FROM \"shardlift_fanout\".\"lock@2\" WHERE");
        assertThat(n0).isPositive().isLessThan(n1);
        assertThat(n1).isLessThan(n2);
        // the real statements carry the password the display masks
        assertThat(ddl(3, 1).stream().map(Ddl::sql).collect(Collectors.joining())).contains("password 's3cret'");
    }
}
