-- Sign-in throttling by client address (store/auth.go): each failed sign-in
-- records the address it came from, and waits grow per address and per
-- (address, email) instead of locking the email for everyone. The rows of
-- the old per-email lockout carry no address and are dropped: at worst a
-- throttle of the last 15 minutes is forgotten.
DELETE FROM login_failures;
DROP INDEX login_failures_email;
ALTER TABLE login_failures ADD COLUMN addr TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_addr ON login_failures(addr, at);
-- Pruning deletes by age.
CREATE INDEX login_failures_at ON login_failures(at);
