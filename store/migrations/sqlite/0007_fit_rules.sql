-- The fit rules of the lead's policy that fire for it (names separated by
-- U+001F), kept with its scores, and the same in its report row, whose
-- cohort counters then count each lead under each of its rules
-- (report_daily.dim 'fit_rule'): quality per fit rule reads counters instead
-- of recomputing every lead's rules.
ALTER TABLE leads ADD COLUMN fit_rules TEXT NOT NULL DEFAULT '';
ALTER TABLE report_leads ADD COLUMN fit_rules TEXT NOT NULL DEFAULT '';
-- Leads scored before this version have no fit rules stored yet: when a
-- policy is in force, a rescore (the background job publishing queues) fills
-- them in.
INSERT INTO jobs (kind, run_at) SELECT 'rescore', 0 WHERE EXISTS (SELECT 1 FROM policies WHERE published_at IS NOT NULL);
