-- bench/cdc.sh, pgbench script (weight 1 of 10): a reading withdrawn, by event_id, in the id range the
-- load started with (1..:maxid; an id deleted earlier deletes nothing and is not a change).
\set id random(1, :maxid)
DELETE FROM public.events WHERE event_id = :id;
