-- API tokens expire (store/token.go): expires_at is when a token stops
-- working by itself, in microseconds; NULL: never. Tokens live when this
-- migration runs get the default lifetime (90 days) from now, rather than
-- stop at once or never.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
UPDATE api_tokens SET expires_at = (EXTRACT(EPOCH FROM now()) * 1000000)::bigint + 90::bigint * 86400 * 1000000
  WHERE revoked_at IS NULL;
