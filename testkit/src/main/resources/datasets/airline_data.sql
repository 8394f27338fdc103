-- Deterministic airline demo data for Datasets.loadAirline. {{scale}} is replaced by the scale
-- (an integer >= 1). Every value comes from hashes of row numbers, so one scale always yields the
-- same rows. Scale 1: 10 aircraft, 100 airports, 1,000 flights (100 routes x 10 days), 5,000
-- bookings, ~10,000 tickets, ~20,000 ticket_flights, ~15,000 boarding passes. Bigger scales add
-- days of flights and bookings; aircraft and airports stay as they are.
-- "Now" of the dataset is the real demo database's bookings.now(): 2017-08-15 18:00:00+03.

-- uniform double in [0, 1) from a 64-bit key and a salt; temp objects only, the schema stays clean
CREATE OR REPLACE FUNCTION pg_temp.dl_u(k bigint, salt bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((hashint8extended(k, salt) >> 11) & 9007199254740991)::double precision / 9007199254740992 $$;

DROP TABLE IF EXISTS pg_temp.dl_aircraft, pg_temp.dl_seat, pg_temp.dl_airport, pg_temp.dl_route,
    pg_temp.dl_flight, pg_temp.dl_booking, pg_temp.dl_booking_flight, pg_temp.dl_ticket,
    pg_temp.dl_ticket_flight;

-- seats per class: rows x seats-per-row, letters taken from 'ABCDEFGHJK'
CREATE TEMP TABLE dl_aircraft AS
SELECT row_number() OVER (ORDER BY code)::int AS n, *
FROM (VALUES
    ('773', 'Boeing 777-300',          11100, 5, 6, 4, 8, 34, 10),
    ('763', 'Boeing 767-300',           7900, 5, 6, 0, 0, 27, 7),
    ('SU9', 'Sukhoi Superjet-100',      3000, 3, 4, 0, 0, 17, 5),
    ('320', 'Airbus A320-200',          5700, 5, 4, 0, 0, 20, 6),
    ('321', 'Airbus A321-200',          5600, 7, 4, 0, 0, 24, 6),
    ('319', 'Airbus A319-100',          6700, 5, 4, 0, 0, 16, 6),
    ('733', 'Boeing 737-300',           4200, 3, 4, 0, 0, 19, 6),
    ('CN1', 'Cessna 208 Caravan',       1200, 0, 0, 0, 0, 6, 2),
    ('CR2', 'Bombardier CRJ-200',       2700, 0, 0, 0, 0, 13, 4),
    ('359', 'Airbus A350-900',         15000, 6, 4, 4, 7, 30, 9)
) v(code, model, range, b_rows, b_seats, c_rows, c_seats, e_rows, e_seats);

INSERT INTO bookings.aircrafts (aircraft_code, model, range)
SELECT code, model, range FROM pg_temp.dl_aircraft ORDER BY code;

-- k = rank of the seat within its class, so the k-th passenger of a class gets the k-th seat
CREATE TEMP TABLE dl_seat AS
SELECT a.code AS aircraft_code, r.row_no::text || substr('ABCDEFGHJK', l, 1) AS seat_no, r.fare,
       row_number() OVER (PARTITION BY a.code, r.fare ORDER BY r.row_no, l)::int AS k
FROM pg_temp.dl_aircraft a
CROSS JOIN LATERAL (
    SELECT g AS row_no, 'Business' AS fare, a.b_seats AS per_row FROM generate_series(1, a.b_rows) g
    UNION ALL
    SELECT a.b_rows + g, 'Comfort', a.c_seats FROM generate_series(1, a.c_rows) g
    UNION ALL
    SELECT a.b_rows + a.c_rows + g, 'Economy', a.e_seats FROM generate_series(1, a.e_rows) g
) r
CROSS JOIN LATERAL generate_series(1, r.per_row) l;

INSERT INTO bookings.seats (aircraft_code, seat_no, fare_conditions)
SELECT aircraft_code, seat_no, fare FROM pg_temp.dl_seat ORDER BY aircraft_code, seat_no;

-- 100 airports in 85 cities (cities 1..15 have two airports, as Moscow has three in the demo)
CREATE TEMP TABLE dl_airport AS
SELECT i, code, city,
       city || CASE WHEN i > 85 THEN ' North' ELSE ' Airport' END AS airport_name,
       lon, lat,
       (ARRAY['Europe/Kaliningrad', 'Europe/Moscow', 'Europe/Samara', 'Asia/Yekaterinburg',
              'Asia/Omsk', 'Asia/Novosibirsk', 'Asia/Krasnoyarsk', 'Asia/Irkutsk', 'Asia/Yakutsk',
              'Asia/Vladivostok', 'Asia/Magadan', 'Asia/Kamchatka'])[1 + floor((lon - 20) / 160 * 12)::int]
           AS timezone
FROM (
    SELECT i,
           chr(65 + (k / 676) % 26) || chr(65 + (k / 26) % 26) || chr(65 + k % 26) AS code,
           initcap(s[1 + floor(pg_temp.dl_u(c, 11) * 24)::int] || s[1 + floor(pg_temp.dl_u(c, 12) * 24)::int]
                   || s[1 + floor(pg_temp.dl_u(c, 13) * 24)::int]) AS city,
           round((20 + 160 * pg_temp.dl_u(i, 14))::numeric, 6)::double precision AS lon,
           round((42 + 30 * pg_temp.dl_u(i, 15))::numeric, 6)::double precision AS lat
    FROM generate_series(1, 100) i,
         LATERAL (SELECT (i * 7919) % 17576 AS k, 1 + (i - 1) % 85 AS c) kc,
         LATERAL (SELECT ARRAY['no', 'vo', 'si', 'bir', 'ka', 'za', 'ro', 'stov', 'mur', 'man',
                               'ir', 'kut', 'ya', 'kha', 'ba', 'rov', 'tom', 'pe', 'ul', 'an',
                               'vla', 'di', 'gorsk', 'tyu'] AS s) sy
) x;

INSERT INTO bookings.airports (airport_code, airport_name, city, longitude, latitude, timezone)
SELECT code, airport_name, city, lon, lat, timezone FROM pg_temp.dl_airport ORDER BY code;

-- 100 routes: a flight number flies one route, daily, with one aircraft type
CREATE TEMP TABLE dl_route AS
SELECT r.r, 'PG' || lpad(r.r::text, 4, '0') AS flight_no, dep.code AS dep, arr.code AS arr,
       ac.code AS aircraft_code, ac.c_rows > 0 AS has_comfort, ac.b_rows > 0 AS has_business,
       r.minutes, r.dep_minute,
       round(3000 + r.minutes * 45, -2)::numeric(10,2) AS economy_price
FROM (
    SELECT r,
           floor(pg_temp.dl_u(r, 1) * 100)::int AS d0,
           floor(pg_temp.dl_u(r, 2) * 99)::int AS d1,
           1 + floor(pg_temp.dl_u(r, 3) * 10)::int AS ac_n,
           (60 + 5 * floor(pg_temp.dl_u(r, 4) * 84))::int AS minutes,
           (5 * floor(pg_temp.dl_u(r, 5) * 288))::int AS dep_minute
    FROM generate_series(1, 100) r
) r
JOIN pg_temp.dl_airport dep ON dep.i = 1 + r.d0
JOIN pg_temp.dl_airport arr ON arr.i = 1 + (r.d0 + 1 + r.d1) % 100
JOIN pg_temp.dl_aircraft ac ON ac.n = r.ac_n;

-- 10 x scale days of flights; three quarters of them before "now"
CREATE TEMP TABLE dl_flight AS
WITH s AS (
    SELECT r.*, d, r.r::bigint * 100000 + d AS fk,
           timestamptz '2017-08-15 00:00:00+00' - make_interval(days => ceil(10 * {{scale}} * 0.75)::int)
               + make_interval(days => d, mins => r.dep_minute) AS sdep
    FROM pg_temp.dl_route r, generate_series(0, 10 * {{scale}} - 1) d
), t AS (
    SELECT s.*, sdep + make_interval(mins => minutes) AS sarr,
           pg_temp.dl_u(fk, 6) < 0.01 AS cancelled,
           CASE WHEN pg_temp.dl_u(fk, 7) < 0.8 THEN 0 ELSE 5 + floor(pg_temp.dl_u(fk, 8) * 115)::int END AS delay,
           floor(pg_temp.dl_u(fk, 9) * 11)::int - 5 AS jitter
    FROM s
), a AS (
    SELECT t.*, sdep + make_interval(mins => delay) AS adep,
           sarr + make_interval(mins => delay + jitter) AS aarr
    FROM t
), st AS (
    SELECT a.*,
           CASE WHEN cancelled THEN 'Cancelled'
                WHEN aarr <= timestamptz '2017-08-15 18:00:00+03' THEN 'Arrived'
                WHEN adep <= timestamptz '2017-08-15 18:00:00+03' THEN 'Departed'
                WHEN sdep > timestamptz '2017-08-16 18:00:00+03' THEN 'Scheduled'
                WHEN delay > 0 THEN 'Delayed'
                ELSE 'On Time' END AS status
    FROM a
)
SELECT row_number() OVER (ORDER BY sdep, flight_no)::int AS flight_id, flight_no, sdep, sarr,
       dep, arr, status, aircraft_code, has_comfort, has_business, economy_price,
       CASE WHEN status IN ('Departed', 'Arrived') THEN adep END AS adep,
       CASE WHEN status = 'Arrived' THEN aarr END AS aarr
FROM st;

INSERT INTO bookings.flights (flight_id, flight_no, scheduled_departure, scheduled_arrival,
        departure_airport, arrival_airport, status, aircraft_code, actual_departure, actual_arrival)
SELECT flight_id, flight_no, sdep, sarr, dep, arr, status, aircraft_code, adep, aarr
FROM pg_temp.dl_flight ORDER BY flight_id;

SELECT setval(pg_get_serial_sequence('bookings.flights', 'flight_id'), (SELECT max(flight_id) FROM bookings.flights));

-- 5,000 x scale bookings of 1-3 passengers (avg 2) over 1-3 flights (avg 2)
CREATE TEMP TABLE dl_booking AS
SELECT b,
       upper(lpad(to_hex(((b::bigint * 7368787) % 16777216) # 10858437), 6, '0')) AS book_ref,
       CASE WHEN pg_temp.dl_u(b, 21) < 0.25 THEN 1 WHEN pg_temp.dl_u(b, 21) < 0.75 THEN 2 ELSE 3 END AS nflights,
       1 + floor(pg_temp.dl_u(b, 22) * 3)::int AS npass,
       floor(pg_temp.dl_u(b, 23) * 1000 * {{scale}})::int AS f0,
       1 + floor(pg_temp.dl_u(b, 24) * (1000 * {{scale}} / 3 - 1))::int AS step
FROM generate_series(1, 5000 * {{scale}}) b;

-- j * step < flight count for j <= 2, so a booking's flights are distinct
CREATE TEMP TABLE dl_booking_flight AS
SELECT bk.b, 1 + (bk.f0 + j * bk.step) % (1000 * {{scale}}) AS flight_id
FROM pg_temp.dl_booking bk, generate_series(0, bk.nflights - 1) j;

CREATE TEMP TABLE dl_ticket AS
SELECT bk.b, bk.book_ref,
       lpad((5432000000 + sum(bk.npass) OVER (ORDER BY bk.b) - bk.npass + p)::text, 13, '0') AS ticket_no,
       (sum(bk.npass) OVER (ORDER BY bk.b) - bk.npass + p)::bigint AS t
FROM pg_temp.dl_booking bk, generate_series(1, bk.npass) p;

CREATE TEMP TABLE dl_ticket_flight AS
SELECT tk.b, tk.ticket_no, f.flight_id, f.status, f.aircraft_code, tk.t,
       c.fare,
       CASE c.fare WHEN 'Business' THEN round(f.economy_price * 3, -2)
                   WHEN 'Comfort' THEN round(f.economy_price * 1.9, -2)
                   ELSE f.economy_price END::numeric(10,2) AS amount
FROM pg_temp.dl_ticket tk
JOIN pg_temp.dl_booking_flight bf ON bf.b = tk.b
JOIN pg_temp.dl_flight f ON f.flight_id = bf.flight_id
CROSS JOIN LATERAL (SELECT pg_temp.dl_u(tk.t, 1000 + f.flight_id) AS u) uu
CROSS JOIN LATERAL (
    SELECT CASE WHEN uu.u < 0.1 AND f.has_business THEN 'Business'
                WHEN uu.u < 0.17 AND f.has_comfort THEN 'Comfort'
                ELSE 'Economy' END AS fare
) c;

INSERT INTO bookings.bookings (book_ref, book_date, total_amount)
SELECT bk.book_ref,
       least(first_dep, timestamptz '2017-08-15 18:00:00+03')
           - make_interval(secs => 3600 + floor(pg_temp.dl_u(bk.b, 25) * 29 * 86400)),
       total
FROM pg_temp.dl_booking bk
JOIN (SELECT tf.b, sum(tf.amount) AS total FROM pg_temp.dl_ticket_flight tf GROUP BY tf.b) tot ON tot.b = bk.b
JOIN (SELECT bf.b, min(f.sdep) AS first_dep FROM pg_temp.dl_booking_flight bf
      JOIN pg_temp.dl_flight f ON f.flight_id = bf.flight_id GROUP BY bf.b) fd ON fd.b = bk.b
ORDER BY bk.book_ref;

INSERT INTO bookings.tickets (ticket_no, book_ref, passenger_id, passenger_name, contact_data)
SELECT tk.ticket_no, tk.book_ref,
       lpad(floor(pg_temp.dl_u(tk.t, 31) * 10000)::int::text, 4, '0') || ' '
           || lpad(floor(pg_temp.dl_u(tk.t, 32) * 1000000)::int::text, 6, '0'),
       (ARRAY['ALEKSANDR', 'ANNA', 'DMITRIY', 'ELENA', 'IRINA', 'IVAN', 'MARIYA', 'NATALIYA',
              'OLGA', 'PAVEL', 'SERGEY', 'SVETLANA', 'TATYANA', 'VALERIY', 'VLADIMIR', 'YULIYA'])
           [1 + floor(pg_temp.dl_u(tk.t, 33) * 16)::int]
       || ' ' ||
       (ARRAY['ALEKSEEV', 'BELOV', 'EGOROV', 'FEDOROV', 'IVANOV', 'KOZLOV', 'KUZNECOV', 'MOROZOV',
              'NIKITIN', 'NOVIKOV', 'ORLOV', 'PAVLOV', 'POPOV', 'SMIRNOV', 'SOKOLOV', 'TIKHONOV'])
           [1 + floor(pg_temp.dl_u(tk.t, 34) * 16)::int],
       jsonb_strip_nulls(jsonb_build_object(
           'email', CASE WHEN pg_temp.dl_u(tk.t, 35) < 0.4
                         THEN 'passenger' || tk.t || '@example.org' END,
           'phone', '+70' || lpad(floor(pg_temp.dl_u(tk.t, 36) * 1000000000)::bigint::text, 9, '0')))
FROM pg_temp.dl_ticket tk
ORDER BY tk.ticket_no;

INSERT INTO bookings.ticket_flights (ticket_no, flight_id, fare_conditions, amount)
SELECT ticket_no, flight_id, fare, amount FROM pg_temp.dl_ticket_flight ORDER BY ticket_no, flight_id;

-- Passengers of departed and arrived flights board, except ~3% no-shows. The k-th passenger of a
-- class (in check-in order) gets the k-th seat of that class; a full class leaves the rest without
-- a boarding pass, so (flight_id, seat_no) and (flight_id, boarding_no) are both unique.
INSERT INTO bookings.boarding_passes (ticket_no, flight_id, boarding_no, seat_no)
SELECT ticket_no, flight_id,
       row_number() OVER (PARTITION BY flight_id ORDER BY checkin, ticket_no)::int,
       seat_no
FROM (
    SELECT tf.ticket_no, tf.flight_id, tf.checkin, s.seat_no
    FROM (
        SELECT tf.*, pg_temp.dl_u(tf.t, 2000 + tf.flight_id) AS checkin,
               row_number() OVER (PARTITION BY tf.flight_id, tf.fare
                                  ORDER BY pg_temp.dl_u(tf.t, 2000 + tf.flight_id), tf.ticket_no)::int AS k
        FROM pg_temp.dl_ticket_flight tf
        WHERE tf.status IN ('Departed', 'Arrived') AND pg_temp.dl_u(tf.t, 3000 + tf.flight_id) >= 0.03
    ) tf
    JOIN pg_temp.dl_seat s ON s.aircraft_code = tf.aircraft_code AND s.fare = tf.fare AND s.k = tf.k
) x
ORDER BY ticket_no, flight_id;

DROP TABLE pg_temp.dl_aircraft, pg_temp.dl_seat, pg_temp.dl_airport, pg_temp.dl_route,
    pg_temp.dl_flight, pg_temp.dl_booking, pg_temp.dl_booking_flight, pg_temp.dl_ticket,
    pg_temp.dl_ticket_flight;
DROP FUNCTION pg_temp.dl_u(bigint, bigint);

ANALYZE bookings.aircrafts, bookings.seats, bookings.airports, bookings.bookings, bookings.flights,
    bookings.tickets, bookings.ticket_flights, bookings.boarding_passes;
