-- Baton core schema (SQLite). Times are INTEGER microseconds since the Unix
-- epoch, UTC, on both backends: one representation, sortable, no time zones.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	team          TEXT NOT NULL DEFAULT '',
	territory     TEXT NOT NULL DEFAULT '',
	manager_id    INTEGER REFERENCES users(id),
	active        INTEGER NOT NULL DEFAULT 1,
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE INDEX users_manager ON users(manager_id);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users(id),
	name         TEXT NOT NULL DEFAULT '',
	hash         TEXT NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL
);

CREATE TABLE accounts (
	id             INTEGER PRIMARY KEY,
	domain         TEXT UNIQUE,
	name           TEXT NOT NULL,
	industry       TEXT NOT NULL DEFAULT '',
	employees      INTEGER,
	annual_revenue REAL,
	country        TEXT NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
);
CREATE INDEX accounts_name ON accounts(name);

CREATE TABLE leads (
	id               INTEGER PRIMARY KEY,
	email            TEXT UNIQUE,
	external_id      TEXT UNIQUE,
	name             TEXT NOT NULL DEFAULT '',
	title            TEXT NOT NULL DEFAULT '',
	phone            TEXT NOT NULL DEFAULT '',
	company          TEXT NOT NULL DEFAULT '',
	country          TEXT NOT NULL DEFAULT '',
	source           TEXT NOT NULL DEFAULT '',
	campaign         TEXT NOT NULL DEFAULT '',
	account_id       INTEGER REFERENCES accounts(id),
	owner_id         INTEGER REFERENCES users(id),
	stage            TEXT NOT NULL,
	attrs            TEXT NOT NULL DEFAULT '{}',
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	stage_changed_at INTEGER NOT NULL,
	version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX leads_stage ON leads(stage, created_at);
CREATE INDEX leads_owner ON leads(owner_id, stage);
CREATE INDEX leads_created ON leads(created_at);
CREATE INDEX leads_account ON leads(account_id);

CREATE TABLE attribute_defs (
	name TEXT PRIMARY KEY,
	type TEXT NOT NULL
);

CREATE TABLE lead_history (
	id         INTEGER PRIMARY KEY,
	lead_id    INTEGER NOT NULL REFERENCES leads(id),
	at         INTEGER NOT NULL,
	actor_id   INTEGER REFERENCES users(id),
	actor_name TEXT NOT NULL,
	action     TEXT NOT NULL,
	field      TEXT NOT NULL DEFAULT '',
	from_value TEXT NOT NULL DEFAULT '',
	to_value   TEXT NOT NULL DEFAULT '',
	reason     TEXT NOT NULL DEFAULT '',
	note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lead_history_lead ON lead_history(lead_id, at);

CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	lead_id     INTEGER NOT NULL REFERENCES leads(id),
	client_id   TEXT NOT NULL,
	type        TEXT NOT NULL,
	occurred_at INTEGER NOT NULL,
	properties  TEXT,
	received_at INTEGER NOT NULL,
	UNIQUE (lead_id, client_id)
);
CREATE INDEX events_lead_time ON events(lead_id, occurred_at);

CREATE TABLE products (
	id     INTEGER PRIMARY KEY,
	name   TEXT NOT NULL UNIQUE,
	series TEXT NOT NULL DEFAULT '',
	price  REAL NOT NULL DEFAULT 0
);

CREATE TABLE opportunities (
	id          INTEGER PRIMARY KEY,
	external_id TEXT UNIQUE,
	lead_id     INTEGER REFERENCES leads(id),
	account_id  INTEGER REFERENCES accounts(id),
	owner_id    INTEGER REFERENCES users(id),
	product     TEXT NOT NULL DEFAULT '',
	name        TEXT NOT NULL,
	stage       TEXT NOT NULL,
	amount      REAL NOT NULL DEFAULT 0,
	engaged_at  INTEGER,
	closed_at   INTEGER,
	close_value REAL NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL
);
CREATE INDEX opportunities_owner ON opportunities(owner_id, stage);
CREATE INDEX opportunities_lead ON opportunities(lead_id);

-- Background work, claimed by any number of Baton instances: see jobs.go.
CREATE TABLE jobs (
	id          INTEGER PRIMARY KEY,
	kind        TEXT NOT NULL,
	subject     TEXT NOT NULL DEFAULT '',
	payload     TEXT NOT NULL DEFAULT '{}',
	run_at      INTEGER NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	done_at     INTEGER
);
CREATE INDEX jobs_due ON jobs(run_at) WHERE done_at IS NULL;

-- The effects of probe jobs (`baton jobs probe`): one row each time one ran.
CREATE TABLE job_probes (
	id     INTEGER PRIMARY KEY,
	job_id INTEGER NOT NULL,
	ran_at INTEGER NOT NULL,
	worker TEXT NOT NULL
);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
