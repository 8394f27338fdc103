-- bench/cdc.sh, pgbench script (weight 2 of 10): a corrected reading, by event_id, in the id range the
-- load started with (1..:maxid; an id deleted earlier updates nothing and is not a change).
\set id random(1, :maxid)
UPDATE public.events
SET payload = jsonb_build_object('temperature', round((40 + random() * 40)::numeric, 2),
                                 'humidity', round((30 + random() * 60)::numeric, 2))
WHERE event_id = :id;
