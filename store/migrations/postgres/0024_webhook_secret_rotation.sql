-- Webhook secrets rotate (store/secret.go): the secret replaced by the last
-- rotation still signs deliveries, beside the new one, until old_until
-- (microseconds), so that receivers move to the new one without missing a
-- delivery. Both are stored sealed when the server has a key.
ALTER TABLE webhooks ADD COLUMN old_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN old_until BIGINT;
