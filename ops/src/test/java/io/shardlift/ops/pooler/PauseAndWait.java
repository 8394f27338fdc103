package io.shardlift.ops.pooler;

/**
 * A separate process that PAUSEs an alias and then waits to be killed: the crash that {@link PoolerSwitch#recover()}
 * must repair. Arguments: PgBouncer port, alias.
 */
public final class PauseAndWait {

    private PauseAndWait() {
    }

    public static void main(String[] args) throws Exception {
        try (AdminWire console = AdminWire.connect("127.0.0.1", Integer.parseInt(args[0]), "pgbouncer", "postgres", null,
                5_000, 0)) {
            console.query("PAUSE " + args[1]);
            System.out.println("paused");
            System.out.flush();
            Thread.sleep(600_000);
        }
    }
}
