-- Which fit rules of the lead's policy version fired for it, as a bit mask
-- over the policy's distinct fit rule names in document order (up to 63), so
-- that quality per fit rule is one pass over an index instead of recomputing
-- every lead's rules.
ALTER TABLE leads ADD COLUMN fit_rules BIGINT NOT NULL DEFAULT 0;
CREATE INDEX leads_fit_rules ON leads(policy_version, created_at, fit_rules);
