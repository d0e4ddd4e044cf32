-- The handoff: SLA records, contact attempts, BANT, routing turns, working
-- calendars, the in-app inbox, and the outbox of emails and webhooks.
CREATE TABLE handoffs (
	id              INTEGER PRIMARY KEY,
	lead_id         INTEGER NOT NULL REFERENCES leads(id),
	kind            TEXT NOT NULL,
	owner_id        INTEGER NOT NULL REFERENCES users(id),
	state           TEXT NOT NULL,
	why             TEXT NOT NULL DEFAULT '',
	route           TEXT NOT NULL DEFAULT '',
	pull            INTEGER NOT NULL DEFAULT 0,
	assigned_at     INTEGER NOT NULL,
	due_at          INTEGER NOT NULL,
	remind_at       INTEGER NOT NULL,
	reminded_at     INTEGER,
	answered_at     INTEGER,
	breached_at     INTEGER,
	escalated_to    INTEGER REFERENCES users(id),
	met             INTEGER,
	working_seconds INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX handoffs_lead ON handoffs(lead_id, id);
CREATE INDEX handoffs_owner ON handoffs(owner_id, state, due_at);
CREATE INDEX handoffs_route ON handoffs(route, owner_id, assigned_at);
-- Covers the SLA report, which reads handoffs by assignment time.
CREATE INDEX handoffs_assigned ON handoffs(assigned_at, owner_id, state, met, working_seconds, reminded_at, breached_at, due_at);

CREATE TABLE attempts (
	id      INTEGER PRIMARY KEY,
	lead_id INTEGER NOT NULL REFERENCES leads(id),
	user_id INTEGER REFERENCES users(id),
	channel TEXT NOT NULL,
	outcome TEXT NOT NULL,
	at      INTEGER NOT NULL,
	note    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attempts_lead ON attempts(lead_id, at);

CREATE TABLE bant (
	lead_id          INTEGER PRIMARY KEY REFERENCES leads(id),
	budget_amount    REAL,
	budget_currency  TEXT NOT NULL DEFAULT '',
	budget_confirmed INTEGER NOT NULL DEFAULT 0,
	authority        TEXT NOT NULL DEFAULT '',
	decision_maker   TEXT NOT NULL DEFAULT '',
	need             TEXT NOT NULL DEFAULT '',
	timing           TEXT NOT NULL DEFAULT '',
	timing_date      INTEGER,
	qualified_by     INTEGER REFERENCES users(id),
	qualified_at     INTEGER NOT NULL
);

CREATE TABLE routing_turns (
	route TEXT PRIMARY KEY,
	turn  INTEGER NOT NULL
);

CREATE TABLE calendars (
	team TEXT PRIMARY KEY,
	body TEXT NOT NULL
);

CREATE TABLE notifications (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	kind       TEXT NOT NULL,
	lead_id    INTEGER REFERENCES leads(id),
	title      TEXT NOT NULL,
	body       TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	read_at    INTEGER
);
CREATE INDEX notifications_user ON notifications(user_id, id);

CREATE TABLE webhooks (
	id         INTEGER PRIMARY KEY,
	url        TEXT NOT NULL,
	secret     TEXT NOT NULL,
	events     TEXT NOT NULL DEFAULT '*',
	active     INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL
);

-- One row per recipient and channel, written with the change that causes it.
CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY,
	channel      TEXT NOT NULL,
	target       TEXT NOT NULL,
	event        TEXT NOT NULL,
	subject      TEXT NOT NULL DEFAULT '',
	payload      TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	state        TEXT NOT NULL DEFAULT 'pending',
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      INTEGER NOT NULL,
	lease_until  INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	delivered_at INTEGER
);
CREATE INDEX outbox_due ON outbox(state, next_at);

CREATE TABLE deliveries (
	id          INTEGER PRIMARY KEY,
	outbox_id   INTEGER NOT NULL REFERENCES outbox(id),
	at          INTEGER NOT NULL,
	status      INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deliveries_outbox ON deliveries(outbox_id);

ALTER TABLE leads ADD COLUMN nurture_until INTEGER;
ALTER TABLE leads ADD COLUMN nurture_track TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN merged_into INTEGER;
ALTER TABLE users ADD COLUMN out_of_office_until INTEGER;
ALTER TABLE opportunities ADD COLUMN idempotency_key TEXT;
ALTER TABLE opportunities ADD COLUMN expected_close INTEGER;
CREATE UNIQUE INDEX opportunities_idempotency ON opportunities(idempotency_key);
