-- The audit log (store/audit.go): who did what to which target, when and
-- from where, with the changed fields before and after as JSON. Each row is
-- written in the transaction of its act; nothing in Baton updates or
-- deletes one. at is in microseconds; actor_id is NULL for the system.
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	actor_id    INTEGER,
	actor_name  TEXT NOT NULL DEFAULT '',
	via         TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	target_kind TEXT NOT NULL DEFAULT '',
	target_id   INTEGER NOT NULL DEFAULT 0,
	before_json TEXT NOT NULL DEFAULT '',
	after_json  TEXT NOT NULL DEFAULT '',
	addr        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_target ON audit_log(target_kind, target_id);
