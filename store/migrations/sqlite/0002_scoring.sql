-- Scoring: policy documents (drafts and published versions), predictive
-- models, and each lead's scores with the versions that made them.
CREATE TABLE policies (
	id           INTEGER PRIMARY KEY,
	version      INTEGER UNIQUE,
	name         TEXT NOT NULL,
	owner        TEXT NOT NULL DEFAULT '',
	change_note  TEXT NOT NULL DEFAULT '',
	body         TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	published_by TEXT NOT NULL DEFAULT '',
	published_at INTEGER
);

CREATE TABLE models (
	version     INTEGER PRIMARY KEY,
	created_at  INTEGER NOT NULL,
	created_by  TEXT NOT NULL,
	rows        INTEGER NOT NULL,
	positives   INTEGER NOT NULL,
	window_from INTEGER NOT NULL,
	window_to   INTEGER NOT NULL,
	metrics     TEXT NOT NULL,
	body        TEXT NOT NULL,
	active      INTEGER NOT NULL DEFAULT 0,
	note        TEXT NOT NULL DEFAULT ''
);

ALTER TABLE leads ADD COLUMN fit REAL NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN engagement REAL NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN fit_grade TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN engagement_grade TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN policy_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN probability REAL;
ALTER TABLE leads ADD COLUMN model_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN scored_at INTEGER NOT NULL DEFAULT 0;
-- The scoring state: engagement per rule as of scored_at, and event counts
-- before sales touched the lead (the model's behaviour features).
ALTER TABLE leads ADD COLUMN score_state TEXT NOT NULL DEFAULT '{}';
CREATE INDEX leads_probability ON leads(probability);
