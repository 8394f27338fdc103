-- The airline demo database of shared/seeds/004 (Postgres Pro "demo" bookings schema) as a plain,
-- single PostgreSQL database: no Shardman WITH (...) clauses, and the real demo database's keys.
-- Two things a migration has to rework, as the Shardman chapter does:
--   * tickets/ticket_flights/boarding_passes are keyed by ticket_no, bookings by book_ref;
--   * boarding_passes' two unique constraints lack ticket_no (and book_ref), so a cluster sharded
--     on either cannot enforce them as they are.

CREATE SCHEMA bookings;

CREATE TABLE bookings.aircrafts (
    aircraft_code character(3) NOT NULL PRIMARY KEY,
    model text NOT NULL,
    range integer NOT NULL,
    CONSTRAINT aircrafts_range_check CHECK ((range > 0))
);

CREATE TABLE bookings.seats (
    aircraft_code character(3) NOT NULL REFERENCES bookings.aircrafts(aircraft_code) ON DELETE CASCADE,
    seat_no character varying(4) NOT NULL,
    fare_conditions character varying(10) NOT NULL,
    CONSTRAINT seats_fare_conditions_check CHECK (((fare_conditions)::text = ANY (ARRAY[
        ('Economy'::character varying)::text,
        ('Comfort'::character varying)::text,
        ('Business'::character varying)::text]))),
    PRIMARY KEY (aircraft_code, seat_no)
);

CREATE TABLE bookings.airports (
    airport_code character(3) NOT NULL PRIMARY KEY,
    airport_name text NOT NULL,
    city text NOT NULL,
    longitude double precision NOT NULL,
    latitude double precision NOT NULL,
    timezone text NOT NULL
);

CREATE TABLE bookings.bookings (
    book_ref character(6) NOT NULL PRIMARY KEY,
    book_date timestamp with time zone NOT NULL,
    total_amount numeric(10,2) NOT NULL
);

CREATE TABLE bookings.flights (
    flight_id serial NOT NULL PRIMARY KEY,
    flight_no character(6) NOT NULL,
    scheduled_departure timestamp with time zone NOT NULL,
    scheduled_arrival timestamp with time zone NOT NULL,
    departure_airport character(3) NOT NULL REFERENCES bookings.airports(airport_code),
    arrival_airport character(3) NOT NULL REFERENCES bookings.airports(airport_code),
    status character varying(20) NOT NULL,
    aircraft_code character(3) NOT NULL REFERENCES bookings.aircrafts(aircraft_code),
    actual_departure timestamp with time zone,
    actual_arrival timestamp with time zone,
    CONSTRAINT flights_check CHECK ((scheduled_arrival > scheduled_departure)),
    CONSTRAINT flights_check1 CHECK (((actual_arrival IS NULL)
        OR ((actual_departure IS NOT NULL) AND (actual_arrival IS NOT NULL)
            AND (actual_arrival > actual_departure)))),
    CONSTRAINT flights_status_check CHECK (((status)::text = ANY (ARRAY[
        ('On Time'::character varying)::text,
        ('Delayed'::character varying)::text,
        ('Departed'::character varying)::text,
        ('Arrived'::character varying)::text,
        ('Scheduled'::character varying)::text,
        ('Cancelled'::character varying)::text]))),
    CONSTRAINT flights_flight_no_scheduled_departure_key UNIQUE (flight_no, scheduled_departure)
);

CREATE TABLE bookings.tickets (
    ticket_no character(13) NOT NULL PRIMARY KEY,
    book_ref character(6) NOT NULL REFERENCES bookings.bookings(book_ref),
    passenger_id character varying(20) NOT NULL,
    passenger_name text NOT NULL,
    contact_data jsonb
);

CREATE TABLE bookings.ticket_flights (
    ticket_no character(13) NOT NULL REFERENCES bookings.tickets(ticket_no),
    flight_id integer NOT NULL REFERENCES bookings.flights(flight_id),
    fare_conditions character varying(10) NOT NULL,
    amount numeric(10,2) NOT NULL,
    CONSTRAINT ticket_flights_amount_check CHECK ((amount >= (0)::numeric)),
    CONSTRAINT ticket_flights_fare_conditions_check CHECK (((fare_conditions)::text = ANY (ARRAY[
        ('Economy'::character varying)::text,
        ('Comfort'::character varying)::text,
        ('Business'::character varying)::text]))),
    PRIMARY KEY (ticket_no, flight_id)
);

CREATE TABLE bookings.boarding_passes (
    ticket_no character(13) NOT NULL,
    flight_id integer NOT NULL,
    boarding_no integer NOT NULL,
    seat_no character varying(4) NOT NULL,
    PRIMARY KEY (ticket_no, flight_id),
    FOREIGN KEY (ticket_no, flight_id) REFERENCES bookings.ticket_flights(ticket_no, flight_id),
    CONSTRAINT boarding_passes_flight_id_boarding_no_key UNIQUE (flight_id, boarding_no),
    CONSTRAINT boarding_passes_flight_id_seat_no_key UNIQUE (flight_id, seat_no)
);
