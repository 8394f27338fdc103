-- Wide World Importers' sensor database as it stands on the SOURCE, before the Citus walkthrough
-- (shared/seeds/000) touches it: events keyed by event_id alone, with a foreign key to devices.
-- Migrating it to a cluster sharded on device_id means the target primary key must become
-- (event_id, device_id), exactly the seed's step 4.

CREATE TABLE public.device_types (
    device_type_id int PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE public.devices (
    device_id int PRIMARY KEY,
    device_type_id int NOT NULL REFERENCES public.device_types,
    name text NOT NULL,
    created_at timestamp NOT NULL DEFAULT now()
);

CREATE TABLE public.events (
    event_id bigserial PRIMARY KEY,
    device_id int NOT NULL,
    payload jsonb,
    created_at timestamp DEFAULT now(),
    CONSTRAINT events_device_id_fkey FOREIGN KEY (device_id) REFERENCES public.devices(device_id)
);

CREATE INDEX events_payload_idx ON public.events USING gin (payload);

-- One sensor reading. The seed calls it without showing it; readings stay in the ranges the
-- outlier query classifies (temperature 40..80, humidity 30..90), two decimals like the loader's.
CREATE PROCEDURE public.generate_reading(p_device_id int)
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO public.events (device_id, payload)
    VALUES (p_device_id,
            jsonb_build_object('temperature', round((40 + random() * 40)::numeric, 2),
                               'humidity', round((30 + random() * 60)::numeric, 2)));
END;
$$;

-- The seed's simulation job (pg_cron calls it every minute there), schema-qualified. One call
-- sleeps 4 x 10 s: tests that want live writes call generate_reading directly.
CREATE PROCEDURE public.generate_sensor_readings()
LANGUAGE plpgsql
AS $$
DECLARE
    max_id bigint;
    min_id int;
BEGIN
    -- Generates readings for all devices
    min_id := (SELECT MIN(device_id) FROM public.devices);
    max_id := (SELECT MAX(device_id) FROM public.devices);
    FOR j IN 1..4 LOOP
        FOR device_counter IN min_id..max_id LOOP
            CALL public.generate_reading(device_counter);
        END LOOP;
        PERFORM pg_sleep_for('10 seconds');
    END LOOP;
END;
$$;
