-- bench/cdc.sh, pgbench script (weight 7 of 10): a new reading of a random device, as the seed's
-- generate_reading does (event_id from the bigserial sequence, created_at by default now()).
\set dev random(1, :devices)
INSERT INTO public.events (device_id, payload)
VALUES (:dev, jsonb_build_object('temperature', round((40 + random() * 40)::numeric, 2),
                                 'humidity', round((30 + random() * 60)::numeric, 2)));
