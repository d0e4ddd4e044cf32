-- Reports: aggregates kept up to date by every lead history entry in its own
-- transaction (store/report.go), so that no report scans lead_history.
-- RebuildReports recomputes them all from lead_history.

-- One row per lead: the dimensions the reports break down by, as they are
-- now (owner is the user id as text, size_band the account's size band), the
-- stage and since when, the first time the lead reached each stage, and when
-- it first came back from recycled to mql.
CREATE TABLE report_leads (
	lead_id         INTEGER PRIMARY KEY,
	created_at      INTEGER NOT NULL,
	source          TEXT NOT NULL DEFAULT '',
	campaign        TEXT NOT NULL DEFAULT '',
	industry        TEXT NOT NULL DEFAULT '',
	size_band       TEXT NOT NULL DEFAULT '',
	country         TEXT NOT NULL DEFAULT '',
	owner           TEXT NOT NULL DEFAULT '',
	stage           TEXT NOT NULL,
	stage_at        INTEGER NOT NULL,
	mql_at          INTEGER,
	sal_at          INTEGER,
	sql_at          INTEGER,
	opportunity_at  INTEGER,
	won_at          INTEGER,
	lost_at         INTEGER,
	recycled_at     INTEGER,
	disqualified_at INTEGER,
	returned_at     INTEGER
);
CREATE INDEX report_leads_recycled ON report_leads(recycled_at) WHERE recycled_at IS NOT NULL;

-- Daily counters. kind 'p' (period): transitions into stage on day (the
-- transition's UTC day, days since 1970-01-01), by the lead's dimension value
-- at the time; stage 'lead' is a creation. kind 'c' (cohort): leads created on
-- day that ever reached stage, by the lead's current dimension value.
CREATE TABLE report_daily (
	kind  TEXT NOT NULL,
	dim   TEXT NOT NULL,
	day   INTEGER NOT NULL,
	value TEXT NOT NULL,
	stage TEXT NOT NULL,
	n     INTEGER NOT NULL,
	PRIMARY KEY (kind, dim, day, value, stage)
) WITHOUT ROWID;

-- Histograms of durations (time in a stage, or a step such as mql_to_sal)
-- by the day the lead left the stage; bucket is floor(8*log2(1+seconds)).
CREATE TABLE report_durations (
	kind   TEXT NOT NULL,
	day    INTEGER NOT NULL,
	bucket INTEGER NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (kind, day, bucket)
) WITHOUT ROWID;

-- Rejections by sales (mql or sal to recycled or disqualified) by day,
-- reason, and the lead's source and campaign at the time.
CREATE TABLE report_rejections (
	day        INTEGER NOT NULL,
	from_stage TEXT NOT NULL,
	to_stage   TEXT NOT NULL,
	reason     TEXT NOT NULL,
	source     TEXT NOT NULL,
	campaign   TEXT NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (day, from_stage, to_stage, reason, source, campaign)
) WITHOUT ROWID;
