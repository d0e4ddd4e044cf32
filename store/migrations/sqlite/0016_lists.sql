-- The lead list: its sortable columns read from an index each way (with id,
-- which breaks ties and lets an export page start after a row), and each
-- user's saved views. The expressions are the ones store/lead.go sorts by.
CREATE INDEX leads_sort_fit ON leads(fit, id);
CREATE INDEX leads_sort_engagement ON leads(engagement, id);
CREATE INDEX leads_sort_probability ON leads(COALESCE(probability, -1), id);
CREATE INDEX leads_sort_name ON leads(LOWER(COALESCE(NULLIF(name, ''), email, external_id)), id);
-- A rep's "handed over" list: the leads they qualified, latest first.
CREATE INDEX bant_qualified_by ON bant(qualified_by, qualified_at);

CREATE TABLE saved_views (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	name       TEXT NOT NULL,
	query      TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (user_id, name)
);
