-- Fills the sensor schema of seed 000 exactly as the test kit's Datasets.loadSensors(c, 10, 1000, :events)
-- does (embedded/src/main/java/io/shardlift/embedded/SensorDataset.java): the same statements, the same
-- hash-derived values, the same 250,000-event chunks each committed on its own, the same drop and
-- rebuild of the events table's key, foreign key and GIN index around the load, then setval and ANALYZE.
-- Same rows, same digests as the fixture of the same size.
--
-- Run with psql after embedded's datasets/sensors_schema.sql, on a fresh schema, autocommit on:
--   psql -v ON_ERROR_STOP=1 -v events=1000000 -f bench/sensors_load.sql
-- Variables: events (required), device_types (default 10), devices (default 1000).

\set ON_ERROR_STOP 1
\if :{?events}
\else
\warn 'sensors_load.sql: pass -v events=N'
\quit
\endif
\if :{?device_types}
\else
\set device_types 10
\endif
\if :{?devices}
\else
\set devices 1000
\endif

-- Datasets.SENSORS_UNTIL; the events span the 30 days before it
\set until '2025-01-01 00:00:00'
-- Datasets.SENSOR_CHUNK: events per INSERT ... SELECT, each its own transaction
\set chunk 250000

SELECT count(*) = 0 AS events_empty FROM public.events \gset
\if :events_empty
\else
\warn 'sensors_load.sql: public.events is not empty; this script only fills a fresh schema'
\quit
\endif

INSERT INTO public.device_types (device_type_id, name)
SELECT i, (ARRAY['thermometer', 'hygrometer', 'thermo-hygrometer', 'cold room probe',
                 'freezer probe', 'warehouse gateway', 'truck logger', 'display case sensor',
                 'dock door sensor', 'pallet tag'])[1 + (i - 1) % 10]
          || CASE WHEN i > 10 THEN ' ' || ((i - 1) / 10 + 1) ELSE '' END
FROM generate_series(1, :device_types) i
ON CONFLICT (device_type_id) DO NOTHING;

INSERT INTO public.devices (device_id, device_type_id, name, created_at)
SELECT i, t, 'sensor-' || lpad(i::text, 5, '0'),
       :'until'::timestamp - make_interval(secs => 60 * 86400
           - floor(29 * 86400 * (((hashint8extended(i, 4) >> 11) & 9007199254740991)::float8 / 9007199254740992)))
FROM generate_series(1, :devices) i,
     LATERAL (SELECT 1 + (((hashint8extended(i, 3) >> 11) & 9007199254740991) % :device_types)::int AS t) tt
ON CONFLICT (device_id) DO NOTHING;

-- As the fixture does for a load of >= 10,000 events into an empty table: drop the GIN index, the
-- foreign key and the primary key, load, and rebuild them in one transaction afterwards.
DROP INDEX public.events_payload_idx;
ALTER TABLE public.events DROP CONSTRAINT events_device_id_fkey;
ALTER TABLE public.events DROP CONSTRAINT events_pkey;

-- One INSERT ... SELECT per chunk of 250,000 ids (the fixture's EVENTS_CHUNK_SQL with its parameters
-- filled in: devices, start = until - 30 days, step = 30 days / events in seconds, from, to, base 0),
-- each committed on its own by \gexec under autocommit.
SELECT format($sql$
INSERT INTO public.events (event_id, device_id, payload, created_at)
SELECT id,
       1 + ((id - 1) %% %1$s)::int,
       jsonb_build_object(
           'temperature', (4000 + (hashint8extended(id, 1) & 9007199254740991) %% 4000) * 0.01,
           'humidity',    (3000 + (hashint8extended(id, 2) & 9007199254740991) %% 6000) * 0.01),
       %2$L::timestamp + make_interval(secs => (g - 1) * (2592000::float8 / %3$s::float8))
FROM generate_series(%4$s::bigint, %5$s::bigint) g, LATERAL (SELECT 0::bigint + g AS id) i$sql$,
              :devices, (:'until'::timestamp - interval '30 days')::text, :events,
              lo, least(:events::bigint, lo + :chunk - 1))
FROM generate_series(1, :events::bigint, :chunk) lo
ORDER BY lo
\gexec

BEGIN;
SET LOCAL maintenance_work_mem = '256MB';
ALTER TABLE public.events ADD CONSTRAINT events_pkey PRIMARY KEY (event_id);
ALTER TABLE public.events ADD CONSTRAINT events_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(device_id);
CREATE INDEX events_payload_idx ON public.events USING gin (payload);
COMMIT;

SELECT setval(pg_get_serial_sequence('public.events', 'event_id'),
              greatest((SELECT max(event_id) FROM public.events), 1));
ANALYZE public.device_types, public.devices, public.events;
