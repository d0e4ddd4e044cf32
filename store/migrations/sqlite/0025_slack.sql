-- Slack incoming webhooks (store/slack.go): each gets the notifications of
-- one team or of one user. The URL is the secret that lets anyone post to
-- the channel: stored sealed when the server has a key, shown only as hint.
CREATE TABLE slack_channels (
	id         INTEGER PRIMARY KEY,
	team       TEXT NOT NULL DEFAULT '',
	user_id    INTEGER REFERENCES users(id),
	url        TEXT NOT NULL,
	hint       TEXT NOT NULL,
	active     INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL
);
