-- The business metrics (store/stats.go) read at every scrape: the open
-- handoffs by kind and deadline, and the SLA over the last 30 days by kind,
-- each from an index range bounded by what it counts.
CREATE INDEX handoffs_open ON handoffs(kind, due_at) WHERE state = 'open';
CREATE INDEX handoffs_decided ON handoffs(assigned_at, kind, met);
