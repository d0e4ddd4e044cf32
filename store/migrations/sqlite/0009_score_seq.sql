-- score_seq counts the writes of a lead's scores and scoring state. A
-- rescore computes a chunk's scores on a read snapshot while it writes the
-- chunk before, then writes each lead only if its version and score_seq are
-- still those it read: an event, an edit or another rescore in between makes
-- it score that lead again instead of overwriting it with scores of its old
-- self.
ALTER TABLE leads ADD COLUMN score_seq INTEGER NOT NULL DEFAULT 0;
