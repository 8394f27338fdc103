package io.shardlift.ops.pooler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlift.ops.pooler.IncludeFile.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IncludeFileTest {

    static final String ORIGINAL = """
            ; switched by shardlift
            app = host=10.0.0.5 port=5432 dbname=shop pool_size=20 auth_user=pgb_auth
            "reports" = host=10.0.0.5 dbname=shop
            other = host=10.0.0.7 port=5433 dbname=shop pool_size=5
            # a comment = not an alias
            quoted = host=10.0.0.5 port=5432 dbname=shop application_name='it''s mine' pool_size=3
            """;

    static final Target NODE0 = new Target("10.0.1.1", 6001, "shop_sharded");

    @TempDir
    Path dir;

    @Test
    void changesOnlyTheListedAliasesAndKeepsTheirOtherParameters() throws Exception {
        List<String> out = IncludeFile.pointAt(ORIGINAL.lines().toList(), List.of("app", "reports", "quoted"), NODE0,
                dir.resolve("x.ini"));
        assertThat(out).containsExactly(
                "; switched by shardlift",
                "app = host=10.0.1.1 port=6001 dbname=shop_sharded pool_size=20 auth_user=pgb_auth",
                "\"reports\" = port=6001 host=10.0.1.1 dbname=shop_sharded",
                "other = host=10.0.0.7 port=5433 dbname=shop pool_size=5",
                "# a comment = not an alias",
                "quoted = host=10.0.1.1 port=6001 dbname=shop_sharded application_name='it''s mine' pool_size=3");
        Map<String, Map<String, String>> aliases = IncludeFile.aliases(out);
        assertThat(aliases.get("quoted")).containsEntry("application_name", "it's mine").containsEntry("pool_size", "3");
        assertThat(aliases.get("reports")).containsEntry("host", "10.0.1.1").containsEntry("port", "6001");
        assertThat(aliases).doesNotContainKey("# a comment");
    }

    @Test
    void aListedAliasWithoutALineIsNamed() {
        assertThatThrownBy(() -> IncludeFile.pointAt(ORIGINAL.lines().toList(), List.of("app", "ghost"), NODE0,
                Path.of("/etc/pgbouncer/s.ini")))
                .hasMessageContaining("/etc/pgbouncer/s.ini has no line for alias ghost")
                .hasMessageContaining("%include");
    }

    @Test
    void writesAtomicallyKeepsThePreviousVersionAndSwitchesBack() throws Exception {
        Path file = dir.resolve("shardlift-databases.ini");
        Files.writeString(file, ORIGINAL);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));

        assertThat(IncludeFile.switchTo(file, List.of("app"), NODE0)).isTrue();
        assertThat(Files.readString(IncludeFile.previous(file))).isEqualTo(ORIGINAL);
        assertThat(Files.readString(file)).contains("app = host=10.0.1.1 port=6001 dbname=shop_sharded pool_size=20")
                .contains("other = host=10.0.0.7 port=5433 dbname=shop pool_size=5");
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-r-----"));
        // no temporary file left behind
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("shardlift-databases.ini", "shardlift-databases.ini.shardlift-prev");
        }

        // a repeated switch changes nothing and keeps the source's version as the previous one
        String switched = Files.readString(file);
        assertThat(IncludeFile.switchTo(file, List.of("app"), NODE0)).isFalse();
        assertThat(Files.readString(file)).isEqualTo(switched);
        assertThat(Files.readString(IncludeFile.previous(file))).isEqualTo(ORIGINAL);

        assertThat(IncludeFile.restorePrevious(file)).isTrue();
        assertThat(Files.readString(file)).isEqualTo(ORIGINAL);
        assertThat(IncludeFile.restorePrevious(file)).isFalse();
    }

    @Test
    void theRenameReplacesTheFileSoAReaderSeesOldOrNewNeverHalf() throws Exception {
        Path file = dir.resolve("s.ini");
        Files.writeString(file, ORIGINAL);
        Object before = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        IncludeFile.switchTo(file, List.of("app"), NODE0);
        Object after = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        // a new inode: the content was never rewritten in place
        assertThat(after).isNotEqualTo(before);
    }

    @Test
    void switchBackWithoutAPreviousVersionSaysSo() throws Exception {
        Path file = dir.resolve("s.ini");
        Files.writeString(file, ORIGINAL);
        assertThatThrownBy(() -> IncludeFile.restorePrevious(file)).hasMessageContaining("no previous version of " + file);
    }
}
