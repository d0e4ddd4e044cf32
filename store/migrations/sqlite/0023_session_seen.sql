-- Web sessions end after an idle time (store/auth.go, DB.SessionIdle):
-- seen_at is when the session last served a page, in microseconds,
-- written at most once a minute.
ALTER TABLE sessions ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET seen_at = created_at;
