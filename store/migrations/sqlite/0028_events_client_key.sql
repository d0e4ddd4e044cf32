-- An event is stored once per (client id, lead), as before, but the unique
-- index now leads with the client id. Batches of events to random leads
-- wrote a random page of each of two indexes by lead per event; the index
-- by lead and time is enough to find a lead's events, and one keyed by the
-- client id first takes a batch's ids, which a sender makes in order (or
-- at random, as a bare table with a unique client id would), near each
-- other. SQLite cannot drop a table's UNIQUE constraint: the table is
-- copied into a new one.
CREATE TABLE events_new (
	id          INTEGER PRIMARY KEY,
	lead_id     INTEGER NOT NULL REFERENCES leads(id),
	client_id   TEXT NOT NULL,
	type        TEXT NOT NULL,
	occurred_at INTEGER NOT NULL,
	properties  TEXT,
	received_at INTEGER NOT NULL,
	UNIQUE (client_id, lead_id)
);
INSERT INTO events_new (id, lead_id, client_id, type, occurred_at, properties, received_at)
	SELECT id, lead_id, client_id, type, occurred_at, properties, received_at FROM events ORDER BY id;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_lead_time ON events(lead_id, occurred_at);
