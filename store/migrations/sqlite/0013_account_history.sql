-- Every change of an account's fields, audited as a lead's are: who, when,
-- which field, from, to. Fit rules read account fields, so an edit here
-- moves the scores of the account's leads.
CREATE TABLE account_history (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	at         INTEGER NOT NULL,
	actor_id   INTEGER REFERENCES users(id),
	actor_name TEXT NOT NULL,
	field      TEXT NOT NULL,
	from_value TEXT NOT NULL DEFAULT '',
	to_value   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX account_history_account ON account_history(account_id, at);
