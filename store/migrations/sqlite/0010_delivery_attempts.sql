-- A delivery attempt is logged when its message is claimed, before it is
-- sent, and finished when the receiver answers, so that an attempt a crash
-- cuts short stays in the log: finished_at is NULL while it is in flight,
-- and interrupted marks one that was closed without an answer (its instance
-- stopped, or its lease ran out and another instance took the message over).
-- lease_owner names the instance holding a message's lease, so that an
-- instance restarted under the same name takes its own leases back at once
-- instead of waiting them out.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN worker TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN finished_at INTEGER;
ALTER TABLE deliveries ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
-- The attempts logged before were written when they finished, at "at".
UPDATE deliveries SET finished_at = at;
