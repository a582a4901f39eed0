-- 12345热线专题库 citizens' requests: ticket_history keeps every step of every ticket with the
-- delivery and line it came from; tickets holds each ticket's state after its latest step.
-- Its live_<feed> view is generated from the library's declared feed (build.py).
CREATE SCHEMA IF NOT EXISTS service;

CREATE TABLE IF NOT EXISTS service.ticket_history (
    ticket_no VARCHAR NOT NULL,
    version BIGINT NOT NULL,                   -- step order: event time, then delivery, then line
    event_id VARCHAR NOT NULL, event_type VARCHAR NOT NULL, event_time TIMESTAMP NOT NULL,
    district_code VARCHAR,
    category VARCHAR, channel VARCHAR,         -- create only
    handler VARCHAR, due_at TIMESTAMP,         -- dispatch only
    satisfaction INTEGER,                      -- rate only
    caller_hash VARCHAR,                       -- create only: keyed hash of caller_id_number, never the number
    source_delivery_id BIGINT NOT NULL, source_line BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS service.tickets (
    ticket_no VARCHAR NOT NULL,
    district_code VARCHAR,                     -- from its creation (the latest step's for a ticket never created)
    category VARCHAR, channel VARCHAR, created_at TIMESTAMP,
    handler VARCHAR, due_at TIMESTAMP, dispatched_at TIMESTAMP,   -- the latest dispatch
    closed_at TIMESTAMP,                       -- empty while open
    satisfaction INTEGER,                      -- the latest rating
    reopened BIGINT NOT NULL,
    status VARCHAR NOT NULL,                   -- open | closed
    caller_hash VARCHAR, last_event_at TIMESTAMP,
    source_delivery_id BIGINT, source_line BIGINT   -- the latest step
);
