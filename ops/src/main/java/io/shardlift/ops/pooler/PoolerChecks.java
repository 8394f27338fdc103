package io.shardlift.ops.pooler;

import io.shardlift.ops.pooler.PgBouncerAdmin.Database;
import io.shardlift.ops.pooler.PoolerSwitch.Check;
import io.shardlift.ops.pooler.PoolerSwitch.Points;
import io.shardlift.core.spec.PoolerSpec.PgBouncerSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The read-only checks of one PgBouncer instance: that the switch can work (admin console, admin rights, aliases
 * pointing at the source, the include file) and that the pause cannot become client errors (pool mode, timeouts).
 * Each problem quotes what was seen and names the setting to change.
 */
final class PoolerChecks {

    private final PoolerSwitch sw;
    private final PgBouncerSpec b;
    private final String key;
    private final List<Check> out;
    private final boolean cutOver;

    PoolerChecks(PoolerSwitch sw, int index, boolean cutOver, List<Check> out) {
        this.sw = sw;
        this.cutOver = cutOver;
        this.b = sw.spec().pgbouncers().get(index);
        this.key = "pooler.pgbouncer[" + index + "] (" + b.label() + ")";
        this.out = out;
    }

    void run() {
        includeFile();
        PgBouncerAdmin admin;
        try {
            admin = PgBouncerAdmin.connect(b);
        } catch (IOException e) {
            problem("cannot reach the admin console: " + e.getMessage() + " — check admin: (host, port, user, password) "
                    + "and that PgBouncer lets shardlift's host in (listen_addr, auth_type, auth_file or auth_hba_file)");
            return;
        }
        try (admin) {
            Map<String, String> config = admin.config();
            adminRights(config);
            List<Database> dbs = admin.databases();
            String poolMode = config.getOrDefault("pool_mode", "session");
            for (String alias : b.databases()) {
                alias(alias, dbs, poolMode);
            }
            queryWaitTimeout(config);
        } catch (IOException e) {
            problem("the admin console answered but SHOW failed: " + e.getMessage() + " — user " + b.admin().user()
                    + " must be in admin_users (PAUSE, RESUME and RELOAD need it) in pgbouncer.ini");
        }
    }

    private void adminRights(Map<String, String> config) {
        String admins = config.getOrDefault("admin_users", "");
        boolean admin = Arrays.stream(admins.split("[,\\s]+")).anyMatch(u -> u.equals(b.admin().user()));
        if (!admin) {
            problem("user " + b.admin().user() + " is not in admin_users (\"" + admins + "\"): it can SHOW but not PAUSE, "
                    + "RESUME or RELOAD — add " + b.admin().user() + " to admin_users in pgbouncer.ini and RELOAD");
        } else {
            out.add(new Check(true, key + ": admin console reachable, " + b.admin().user() + " is an admin user"));
        }
    }

    private void alias(String alias, List<Database> dbs, String globalMode) {
        Database d = dbs.stream().filter(x -> x.name().equals(alias)).findFirst().orElse(null);
        if (d == null) {
            problem("has no database alias " + alias + " (SHOW DATABASES) — define it in " + b.includeFile()
                    + " pointing at the source " + PoolerSwitch.label(sw.source().host(), sw.source().port(), sw.source().dbname())
                    + ", or fix pooler.pgbouncer databases:");
            return;
        }
        Points p = sw.points(d);
        if (cutOver && (p == Points.CLUSTER || p == Points.SOURCE)) {
            out.add(new Check(true, key + ": alias " + alias + " points at " + d.target() + (p == Points.CLUSTER
                    ? " (switched by the cutover)" : " (the cutover is done: a restarted run points it at the cluster)")));
        } else if (p != Points.SOURCE) {
            problem("alias " + alias + " points at " + d.target() + " but the source (migrate.connstr) is "
                    + PoolerSwitch.label(sw.source().host(), sw.source().port(), sw.source().dbname())
                    + (p == Points.CLUSTER ? " (it points at the cluster already: was it switched? use switch back or fix the include file)"
                    : " — the aliases to switch must lead to the source database; fix its line in " + b.includeFile()
                    + " or the databases: list"));
        } else {
            out.add(new Check(true, key + ": alias " + alias + " points at the source " + d.target()));
        }
        if (d.paused()) {
            // not a problem that stops `run`: a cutover killed while paused leaves it so, and run's start RESUMEs it
            // (Recovery); refusing to start would keep the outage
            out.add(new Check(true, key + ": alias " + alias + " is paused now: its clients wait — shardlift run RESUMEs it"
                    + " on start (a cutover interrupted while paused leaves it so), or RESUME " + alias + " on the admin console"));
        }
        String mode = d.poolMode() != null && !d.poolMode().isBlank() ? d.poolMode() : globalMode;
        if ("session".equalsIgnoreCase(mode)) {
            boolean own = d.poolMode() != null && !d.poolMode().isBlank();
            problem("alias " + alias + " uses pool_mode session: PAUSE waits until every client disconnects, so it cannot "
                    + "complete while the application is connected — set pool_mode=transaction "
                    + (own ? "on the alias's line in " + b.includeFile() : "in pgbouncer.ini ([pgbouncer] pool_mode = transaction)")
                    + " and RELOAD");
        }
    }

    private void queryWaitTimeout(Map<String, String> config) {
        Duration budget = sw.pauseBudget();
        String raw = config.get("query_wait_timeout");
        Duration qwt = seconds(raw);
        if (qwt != null && !qwt.isZero() && qwt.compareTo(budget) <= 0) {
            problem("query_wait_timeout is " + raw + " s, not longer than the pause budget of " + PoolerSwitch.millis(budget)
                    + " (pooler.pause_timeout " + PoolerSwitch.millis(sw.spec().pauseTimeout()) + " + "
                    + PoolerSwitch.FREEZE_ALLOWANCE.toSeconds() + " s for the freeze): clients waiting through the pause "
                    + "would be disconnected with an error — set query_wait_timeout to at least "
                    + (budget.toSeconds() + 1) + " (or 0) in pgbouncer.ini and RELOAD");
        } else if (qwt != null) {
            out.add(new Check(true, key + ": query_wait_timeout " + raw + " s outlasts the pause budget of "
                    + PoolerSwitch.millis(budget)));
        }
    }

    private void includeFile() {
        Path f = b.includeFile();
        if (!Files.isRegularFile(f)) {
            problem("include_file " + f + " does not exist — create it with the switched aliases' [databases] lines and "
                    + "%include it from pgbouncer.ini's [databases] section");
            return;
        }
        if (!PoolerSwitch.writable(f)) {
            problem("include_file " + f + " is not writable by this user, or its directory is not (the switch writes a "
                    + "temporary file next to it and renames it) — give shardlift's user write access to both");
        }
        try {
            Map<String, Map<String, String>> lines = IncludeFile.aliases(Files.readAllLines(f, StandardCharsets.UTF_8));
            List<String> missing = b.databases().stream().filter(a -> !lines.containsKey(a)).toList();
            if (!missing.isEmpty()) {
                problem("include_file " + f + " has no line for " + String.join(", ", missing) + " — move each switched "
                        + "alias's [databases] line from pgbouncer.ini into " + f);
            } else if (PoolerSwitch.writable(f)) {
                out.add(new Check(true, key + ": include_file " + f + " writable, with a line for "
                        + String.join(", ", b.databases())));
            }
        } catch (IOException e) {
            problem("cannot read include_file " + f + ": " + e.getMessage());
        }
    }

    private static Duration seconds(String raw) {
        if (raw == null) {
            return null;
        }
        try {
            return Duration.ofMillis(Math.round(Double.parseDouble(raw.strip().toLowerCase(Locale.ROOT)) * 1000));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private void problem(String message) {
        out.add(new Check(false, key + ": " + message));
    }
}
