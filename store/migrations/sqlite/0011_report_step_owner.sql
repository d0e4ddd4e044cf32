-- Reports by team count each step under the owner who got it (report_daily
-- dim 'step_owner', cohort counters; store/report_agg.go). Until a
-- RebuildReports recomputes them from lead_history, the leads counted before
-- this version keep counting as they did: under the team of the owner they
-- had when it ran.
INSERT INTO report_daily (kind, dim, grain, day, value, stage, n)
	SELECT kind, 'step_owner', grain, day, value, stage, n FROM report_daily WHERE kind = 'c' AND dim = 'owner';
