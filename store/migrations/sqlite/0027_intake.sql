-- The intake (store/intake.go, the rules in intake.go): ingest keys (Segment
-- write keys, website capture keys) stored as their SHA-256 like API tokens;
-- the visitors (anonymousId, userId) linked to leads; and the events of
-- visitors not linked yet, pending until an identify or a form links them
-- (or AnonymousRetention passes). Origins are space-separated.
CREATE TABLE ingest_keys (
	id           INTEGER PRIMARY KEY,
	kind         TEXT NOT NULL,
	name         TEXT NOT NULL,
	hash         TEXT NOT NULL UNIQUE,
	origins      TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	created_by   INTEGER REFERENCES users(id),
	last_used_at INTEGER,
	revoked_at   INTEGER,
	revoked_by   INTEGER REFERENCES users(id)
);
CREATE TABLE intake_visitors (
	kind       TEXT NOT NULL,
	visitor_id TEXT NOT NULL,
	lead_id    INTEGER NOT NULL REFERENCES leads(id),
	linked_at  INTEGER NOT NULL,
	PRIMARY KEY (kind, visitor_id)
);
CREATE INDEX intake_visitors_lead ON intake_visitors(lead_id);
CREATE TABLE intake_pending (
	id           INTEGER PRIMARY KEY,
	anonymous_id TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	type         TEXT NOT NULL,
	occurred_at  INTEGER NOT NULL,
	properties   TEXT,
	received_at  INTEGER NOT NULL,
	UNIQUE (anonymous_id, user_id, client_id)
);
CREATE INDEX intake_pending_user ON intake_pending(user_id) WHERE user_id <> '';
CREATE INDEX intake_pending_received ON intake_pending(received_at);
