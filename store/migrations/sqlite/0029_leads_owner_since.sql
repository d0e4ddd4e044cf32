-- The leads a development rep may claim (store/pool.go) are the unowned
-- ones of a stage, longest waiting first: with stage_changed_at after
-- (owner_id, stage) the index gives them in that order and only them. On
-- (owner_id, stage) alone the unassigned MQLs were found by reading every
-- MQL of leads_stage_since, 100,000 at a million leads, on every inbox
-- page. It replaces leads_owner, which it begins with.
CREATE INDEX leads_owner_since ON leads(owner_id, stage, stage_changed_at);
DROP INDEX leads_owner;
