-- Safe policy editing. Every backtest run is kept (who, when, on how many
-- leads, against which version, the whole result as JSON) under the SHA-256
-- of the document it ran on, so that a draft saved after its text was
-- backtested shows that result again. policies.backtest_id is a draft's last
-- backtest: linked when the draft's text is backtested or saved with a text
-- that was; an edit to another text keeps the link, and the page then says
-- the result is out of date. Runs no draft links to are pruned after a week.
CREATE TABLE policy_backtests (
	id       INTEGER PRIMARY KEY,
	body_sha TEXT NOT NULL,
	against  INTEGER NOT NULL,
	leads    INTEGER NOT NULL,
	result   TEXT NOT NULL,
	run_by   TEXT NOT NULL,
	run_at   INTEGER NOT NULL
);
CREATE INDEX policy_backtests_body ON policy_backtests (body_sha, id);
CREATE INDEX policy_backtests_run_at ON policy_backtests (run_at);
ALTER TABLE policies ADD COLUMN backtest_id INTEGER REFERENCES policy_backtests (id);
-- A draft's document may be edited in place until it is published: the
-- last edit's author and time. A published row never changes again; its
-- change_note is then the publisher's note (see baton.PolicyDoc).
ALTER TABLE policies ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
ALTER TABLE policies ADD COLUMN updated_at INTEGER;
