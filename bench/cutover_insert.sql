-- bench/cutover.sh's write: one INSERT into the migrated events table through PgBouncer, with an id of its own.
-- :n is this client's own counter (pgbench keeps a client's variables from one transaction to the next; -D n=0
-- starts it), so the k-th transaction of client c writes event_id base + c * 1e9 + k (base 1e12, above the seed's
-- ids; computed by pgbench in 64 bits, not in the SQL, where the literals are int4): the k-th line of client c in pgbench's per-transaction log (-l) names the row, and the script finds each acknowledged one on the cluster.
\set n :n + 1
\set id :base + :client_id * 1000000000 + :n
\set dev random(1, :devices)
INSERT INTO public.events (event_id, device_id, payload, created_at) VALUES (:id, :dev, '{"bench": "cutover"}', now());
