-- A user's own time zone (an IANA name such as Europe/Berlin) for the dates
-- the web UI shows them; empty: their working calendar's zone.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
