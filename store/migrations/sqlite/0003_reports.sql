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
-- Recycled reads who came back and where they are from the index alone.
CREATE INDEX report_leads_recycled ON report_leads(recycled_at, stage, returned_at) WHERE recycled_at IS NOT NULL;

-- The counters below come in two grains: 'd' rows count a day (day is the
-- day's number, days since 1970-01-01 UTC), 'm' rows a calendar month (day is
-- the number of its first day). A report over a period reads the months it
-- covers whole and the days at its edges: at most two months of days.

-- Funnel counters. kind 'p' (period): transitions into stage on the day of
-- the transition, by the lead's dimension value at the time; stage 'lead' is
-- a creation. kind 'c' (cohort): leads created on the day that ever reached
-- stage, by the lead's current dimension value.
CREATE TABLE report_daily (
	kind  TEXT NOT NULL,
	dim   TEXT NOT NULL,
	grain TEXT NOT NULL,
	day   INTEGER NOT NULL,
	value TEXT NOT NULL,
	stage TEXT NOT NULL,
	n     INTEGER NOT NULL,
	PRIMARY KEY (kind, dim, grain, day, value, stage)
) WITHOUT ROWID;

-- Histograms of durations (time in a stage, or a step such as mql_to_sal)
-- by the day the lead left the stage; bucket is floor(8*log2(1+seconds)).
CREATE TABLE report_durations (
	kind   TEXT NOT NULL,
	grain  TEXT NOT NULL,
	day    INTEGER NOT NULL,
	bucket INTEGER NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (grain, day, kind, bucket)
) WITHOUT ROWID;

-- Rejections by sales (mql or sal to recycled or disqualified) by reason, in
-- all (dim '', value '') and by the lead's source or campaign at the time.
CREATE TABLE report_rejections (
	dim        TEXT NOT NULL,
	grain      TEXT NOT NULL,
	day        INTEGER NOT NULL,
	value      TEXT NOT NULL,
	reason     TEXT NOT NULL,
	from_stage TEXT NOT NULL,
	to_stage   TEXT NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (dim, grain, day, value, reason, from_stage, to_stage)
) WITHOUT ROWID;
