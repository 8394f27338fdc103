-- bench/cdc.sh: the lag probe on a target. Polls the target table every :poll_ms ms for the bench rows
-- (events rows whose payload has a "bench" key: heartbeats {"bench": "hb", "n": N} written on the source
-- every few hundred ms, and the final probe {"bench": "final", "n": 1..:finals} written once the load has
-- stopped) with ids above :start_id, and records, for each, its source created_at (clock_timestamp() at
-- the INSERT on the source) and the start of the first poll that saw it. Ends when all :finals final rows
-- are visible, or after :timeout_s seconds; then prints one line per row seen:
--   event_id kind n created_epoch seen_epoch
-- Every server runs with timezone = UTC, so both timestamps are UTC and comparable across servers.
--
-- Each poll inside the DO block takes a fresh snapshot (READ COMMITTED, and a COMMIT after each), so a row is
-- seen by the first poll that starts after its transaction committed on the target: the lag recorded is
-- an upper bound, at most one poll interval above the true one. The target needs the partial index
--   CREATE INDEX ON <table> (event_id) WHERE payload ? 'bench'
-- so a poll reads only the few hundred bench rows, not the load's rows.
--
-- psql -v tbl=public.events -v start_id=N -v finals=128 -v poll_ms=25 -v timeout_s=900 -f bench/cdc_poll.sql
\set ON_ERROR_STOP 1
CREATE TEMP TABLE cdc_seen (event_id bigint PRIMARY KEY, kind text, n int, created_at timestamp, seen_at timestamp);
SELECT set_config('cdc.tbl', :'tbl', false), set_config('cdc.start_id', :'start_id', false),
       set_config('cdc.finals', :'finals', false), set_config('cdc.poll_ms', :'poll_ms', false),
       set_config('cdc.timeout_s', :'timeout_s', false) \g /dev/null
DO $$
DECLARE
    tbl regclass := current_setting('cdc.tbl')::regclass;
    start_id bigint := current_setting('cdc.start_id')::bigint;
    finals int := current_setting('cdc.finals')::int;
    pause float8 := current_setting('cdc.poll_ms')::float8 / 1000;
    deadline timestamp := clock_timestamp()::timestamp + make_interval(secs => current_setting('cdc.timeout_s')::float8);
    q text;
    t timestamp;
    got int;
    done int := 0;
BEGIN
    q := format($q$INSERT INTO cdc_seen
        SELECT e.event_id, e.payload->>'bench', (e.payload->>'n')::int, e.created_at, $1
        FROM %s e
        WHERE e.payload ? 'bench' AND e.event_id > $2
          AND NOT EXISTS (SELECT 1 FROM cdc_seen s WHERE s.event_id = e.event_id)$q$, tbl);
    LOOP
        t := clock_timestamp()::timestamp;
        EXECUTE q USING t, start_id;
        GET DIAGNOSTICS got = ROW_COUNT;
        IF got > 0 THEN
            SELECT count(*) INTO done FROM cdc_seen WHERE kind = 'final';
        END IF;
        -- end the transaction: a poller that held one open would hold back the target's xmin horizon, and
        -- with it the pruning and vacuuming of the rows the load updates and deletes
        COMMIT;
        EXIT WHEN done >= finals OR clock_timestamp()::timestamp > deadline;
        PERFORM pg_sleep(pause);
    END LOOP;
END
$$;
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' '
SELECT event_id, kind, n, round(extract(epoch FROM created_at), 6), round(extract(epoch FROM seen_at), 6)
FROM cdc_seen ORDER BY event_id;
