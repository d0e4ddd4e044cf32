-- The fit rules of the lead's policy that fire for it (names separated by
-- U+001F), kept with its scores, and the same in its report row, whose
-- cohort counters then count each lead under each of its rules
-- (report_daily.dim 'fit_rule'): quality per fit rule reads counters instead
-- of recomputing every lead's rules.
ALTER TABLE leads ADD COLUMN fit_rules TEXT NOT NULL DEFAULT '';
ALTER TABLE report_leads ADD COLUMN fit_rules TEXT NOT NULL DEFAULT '';
