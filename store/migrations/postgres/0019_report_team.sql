-- Reports within a manager's team (baton.ReportFilter.Manager) and the leads
-- behind their numbers (ReportLeads); store/report_agg.go writes both with
-- every change, and the rejections by the owner who rejected as
-- report_rejections rows of dim 'owner'. The changes made before this
-- version count in them only once RebuildReports has recomputed the
-- aggregates from lead_history: until then a team's velocity, rejections and
-- lists start at the upgrade (its funnel counts were kept already).

-- Histograms of durations, as report_durations, by the owner the lead had as
-- it left the stage (the user id as text, '' none). The owner comes first:
-- a team's figures are an index range per owner.
CREATE TABLE report_owner_durations (
	owner  TEXT NOT NULL,
	grain  TEXT NOT NULL,
	day    INTEGER NOT NULL,
	kind   TEXT NOT NULL,
	bucket INTEGER NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (owner, grain, day, kind, bucket)
);

-- The leads behind the numbers: one row per creation ('lead') and move into
-- a stage of the funnel ('mql' ... 'won'), under the owner the funnel of the
-- period counts it under, and per rejection ('rejected:' and the reason),
-- under the owner who rejected; at in microseconds. n is 1 (0 for a step
-- that moved to another owner since, more for moves at one instant).
CREATE TABLE report_steps (
	step    TEXT NOT NULL,
	owner   TEXT NOT NULL,
	at      BIGINT NOT NULL,
	lead_id BIGINT NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (step, owner, at, lead_id)
);
