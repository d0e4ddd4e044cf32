-- API tokens are listed and revoked (store/token.go): who made each and
-- through what door, when it was last used (written at most once a minute)
-- and when and by whom it was revoked. Tokens made before this migration
-- have no creator recorded.
ALTER TABLE api_tokens ADD COLUMN created_by INTEGER REFERENCES users(id);
ALTER TABLE api_tokens ADD COLUMN created_via TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN revoked_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN revoked_by INTEGER REFERENCES users(id);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
