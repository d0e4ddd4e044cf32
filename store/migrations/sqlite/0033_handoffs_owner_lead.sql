-- The count of a rep's queue (store/handoff.go, queue) asks, of each of
-- the rep's open handoffs, whether its lead is still theirs: with lead_id
-- outside handoffs_owner, that was a lookup of each handoff's row, some
-- 660 a rep at a million leads, most of the time of GET /api/v1/queue and
-- of a fifth of an inbox page's under writes (every commit leaves the
-- readers' page caches cold). With lead_id in the index the count reads
-- the index alone; id before it keeps the queue's order (due_at, id) the
-- index's, with no sort.
DROP INDEX handoffs_owner;
CREATE INDEX handoffs_owner ON handoffs(owner_id, state, due_at, id, lead_id);
