-- Web sign-in: sessions and throttling of failed sign-ins (store/auth.go).
-- A session's id is the SHA-256 (hex) of the random token in the browser's
-- cookie: a copy of this table signs no one in.
CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	csrf       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- One row per failed sign-in, by the (normalised) email typed, known or not.
CREATE TABLE login_failures (
	id    INTEGER PRIMARY KEY,
	email TEXT NOT NULL,
	at    INTEGER NOT NULL
);
CREATE INDEX login_failures_email ON login_failures(email, at);
