package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

var _ baton.OutboxService = (*DB)(nil)

// ClaimOutbox leases due messages to a worker. The lease is written in its
// own short transaction and the delivery happens outside any: a webhook that
// takes 30 s to answer must not hold the database. The attempt is logged in
// the same transaction, in flight, before anything is sent, so that a crash
// while sending leaves it in the log instead of losing it.
func (db *DB) ClaimOutbox(ctx context.Context, worker string, n int, lease time.Duration) ([]baton.OutboxMessage, error) {
	return db.ClaimOutboxOf(ctx, "", worker, n, lease)
}

// ClaimOutboxOf is ClaimOutbox for the messages of one channel (email,
// webhook or slack; "" for all): a deliverer of one kind leaves the others
// to theirs.
func (db *DB) ClaimOutboxOf(ctx context.Context, channel, worker string, n int, lease time.Duration) (_ []baton.OutboxMessage, err error) {
	defer raceConflict(&err)
	ctx = baton.WithActor(ctx, baton.Actor{Name: "outbox", Role: baton.RoleSystem, Via: "outbox"})
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := `SELECT id, channel, target, event, subject, payload, attempts, created_at, lease_until, lease_owner FROM outbox
		WHERE state = 'pending' AND next_at <= $1 AND lease_until <= $1 AND ($3 = '' OR channel = $3) ORDER BY next_at, id LIMIT $2`
	if db.backend == Postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, q, micros(tx.now), n, channel)
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	type due struct {
		m          baton.OutboxMessage
		leaseUntil int64
		owner      string
	}
	var found []due
	for rows.Next() {
		var d due
		var payload string
		var created int64
		if err := rows.Scan(&d.m.ID, &d.m.Channel, &d.m.Target, &d.m.Event, &d.m.Subject, &payload, &d.m.Attempts, &created, &d.leaseUntil, &d.owner); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim outbox: %w", err)
		}
		d.m.Payload, d.m.CreatedAt = []byte(payload), fromMicros(created)
		found = append(found, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	var out []baton.OutboxMessage
	for _, d := range found {
		m := d.m
		// A lease is ended (set to 0) by every finish and release, so one
		// still set here ran out under a worker that never finished: that
		// worker stopped or hung mid-send. Its attempt is closed first.
		if d.leaseUntil > 0 {
			closed, dead, err := tx.interruptAttempt(ctx, m.ID, interruptedError(d.owner, "'s lease ran out"))
			if err != nil {
				return nil, fmt.Errorf("claim outbox %d: %w", m.ID, err)
			}
			m.Attempts += closed
			if dead {
				continue
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET lease_until = $1, lease_owner = $2 WHERE id = $3`, micros(tx.now.Add(lease)), worker, m.ID); err != nil {
			return nil, fmt.Errorf("claim outbox %d: %w", m.ID, err)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO deliveries (outbox_id, at, worker) VALUES ($1, $2, $3) RETURNING id`,
			m.ID, micros(tx.now), worker).Scan(&m.AttemptID); err != nil {
			return nil, fmt.Errorf("claim outbox %d: log the attempt: %w", m.ID, err)
		}
		out = append(out, m)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return out, nil
}

// ReleaseLeases ends the leases a worker holds on pending messages and
// marks their attempts in flight interrupted. An empty name releases
// nothing: leases written before workers were named have no owner, and they
// may belong to instances still running.
func (db *DB) ReleaseLeases(ctx context.Context, worker string) (_ int, err error) {
	defer raceConflict(&err)
	if worker == "" {
		return 0, nil
	}
	ctx = baton.WithActor(ctx, baton.Actor{Name: "outbox", Role: baton.RoleSystem, Via: "outbox"})
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id FROM outbox WHERE state = 'pending' AND lease_owner = $1 ORDER BY id`+tx.lockRows(), worker)
	if err != nil {
		return 0, fmt.Errorf("release leases of %q: %w", worker, err)
	}
	ids, err := scanIDs(rows)
	if err != nil {
		return 0, fmt.Errorf("release leases of %q: %w", worker, err)
	}
	for _, id := range ids {
		if _, _, err := tx.interruptAttempt(ctx, id, interruptedError(worker, " stopped")); err != nil {
			return 0, fmt.Errorf("release lease of %q on message %d: %w", worker, id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("release leases of %q: %w", worker, err)
	}
	return len(ids), nil
}

// interruptedError says why an attempt was closed without an answer: what
// became of the worker that made it.
func interruptedError(worker, what string) string {
	return "interrupted: " + instance(worker) + what + " before the receiver answered; it may have been delivered"
}

// instance names a worker in the delivery log; leases taken before workers
// were recorded have none.
func instance(worker string) string {
	if worker == "" {
		return "the instance"
	}
	return "instance " + worker
}

// interruptAttempt closes the message's attempt in flight, if it has one, as
// interrupted with the reason, counts it among the message's attempts and
// ends its lease, so the next claim sends it again at once. A message that
// has now had MaxDeliveryAttempts is dead: one that kills its sender each
// time must not be sent for ever. closed is 1 if an attempt was closed.
func (tx *Tx) interruptAttempt(ctx context.Context, id int64, reason string) (closed int, dead bool, err error) {
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET finished_at = $1, interrupted = $2, error = $3 WHERE outbox_id = $4 AND finished_at IS NULL`,
		micros(tx.now), true, reason, id)
	if err != nil {
		return 0, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, err
	}
	var state string
	if err := tx.QueryRowContext(ctx, `UPDATE outbox SET attempts = attempts + $1, last_error = $2, lease_until = 0, lease_owner = '',
		state = CASE WHEN attempts + $1 >= $3 THEN 'dead' ELSE state END WHERE id = $4 RETURNING state`,
		n, reason, baton.MaxDeliveryAttempts, id).Scan(&state); err != nil {
		return 0, false, err
	}
	return int(n), state == "dead", nil
}

// FinishOutbox records the answer on the claim's attempt and moves the
// message on.
func (db *DB) FinishOutbox(ctx context.Context, m baton.OutboxMessage, r baton.DeliveryResult) (err error) {
	defer raceConflict(&err)
	if m.AttemptID == 0 {
		return fmt.Errorf("finish outbox %d: no attempt id (messages come from ClaimOutbox)", m.ID)
	}
	ctx = baton.WithActor(ctx, baton.Actor{Name: "outbox", Role: baton.RoleSystem, Via: "outbox"})
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	id := m.ID
	// The message's row is locked before its attempt's, in the order a claim
	// takes them, so that a finish and a takeover never deadlock.
	var attempts int
	if err := tx.QueryRowContext(ctx, `SELECT attempts FROM outbox WHERE id = $1`+tx.lockRows(), id).Scan(&attempts); err != nil {
		return fmt.Errorf("finish outbox %d: %w", id, err)
	}
	msg := r.Error
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = $1, error = $2, duration_ms = $3, finished_at = $4 WHERE id = $5 AND outbox_id = $6 AND finished_at IS NULL`,
		r.Status, msg, r.Duration.Milliseconds(), micros(tx.now), m.AttemptID, id)
	if err != nil {
		return fmt.Errorf("finish outbox %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("finish outbox %d: %w", id, err)
	} else if n == 0 {
		return tx.lateAnswer(ctx, m, r, msg)
	}
	attempts++
	result := "failed"
	switch {
	case r.OK:
		result = "delivered"
	case !r.Retry || attempts >= baton.MaxDeliveryAttempts:
		result = "dead"
	}
	tx.count(func(t *tally) { inc(&t.Deliveries, baton.DeliveryCount{Channel: m.Channel, Result: result}, 1) })
	switch {
	case r.OK:
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'sent', attempts = $1, delivered_at = $2, last_error = '', lease_until = 0, lease_owner = '' WHERE id = $3`,
			attempts, micros(tx.now), id)
	case !r.Retry || attempts >= baton.MaxDeliveryAttempts:
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'dead', attempts = $1, last_error = $2, lease_until = 0, lease_owner = '' WHERE id = $3`, attempts, msg, id)
	default:
		// Capped exponential backoff with jitter: 30 s, 1 min, 2 min, ... 1 h.
		wait := min(30*time.Second<<(attempts-1), time.Hour)
		wait = wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))
		wait = max(wait, r.RetryAfter)
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET attempts = $1, last_error = $2, next_at = $3, lease_until = 0, lease_owner = '' WHERE id = $4`,
			attempts, msg, micros(tx.now.Add(wait)), id)
	}
	if err != nil {
		return fmt.Errorf("finish outbox %d: %w", id, err)
	}
	return tx.Commit()
}

// lateAnswer logs an answer that came after its attempt was closed as
// interrupted: the worker's lease ran out, or a restart under its name
// released it, and the message is another claim's now. The answer is still
// a fact worth keeping in the log, but the message is left to its new holder.
func (tx *Tx) lateAnswer(ctx context.Context, m baton.OutboxMessage, r baton.DeliveryResult, msg string) error {
	what := "delivered"
	if !r.OK {
		what = msg
	}
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = $1, duration_ms = $2, error = error || $3 WHERE id = $4 AND outbox_id = $5`,
		r.Status, r.Duration.Milliseconds(), "; the receiver answered later: "+what, m.AttemptID, m.ID)
	if err != nil {
		return fmt.Errorf("finish outbox %d: %w", m.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return baton.Errorf(baton.ENOTFOUND, "finish outbox %d: no attempt %d of it", m.ID, m.AttemptID)
	}
	return tx.Commit()
}

// CreateWebhook registers an endpoint (admins only).
func (db *DB) CreateWebhook(ctx context.Context, w *baton.Webhook) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return baton.Errorf(baton.EFORBIDDEN, "only an admin may manage webhooks")
	}
	if err := w.Validate(); err != nil {
		return err
	}
	allow, err := tx.setting(ctx, settingWebhookAllowPrivate)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	if err := w.CheckTarget(allow); err != nil {
		return err
	}
	if w.Secret == "" {
		if w.Secret, err = NewWebhookSecret(); err != nil {
			return err
		}
	}
	sealed, err := db.seal(w.Secret)
	if err != nil {
		return err
	}
	w.Active, w.CreatedAt = true, tx.now
	if err := tx.QueryRowContext(ctx, `INSERT INTO webhooks (url, secret, events, active, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		w.URL, sealed, strings.Join(w.Events, ","), true, micros(tx.now)).Scan(&w.ID); err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	// Never the secret; the URL as FindWebhooks shows it.
	if err := tx.audit(ctx, "webhook.create", "webhook", w.ID, nil,
		map[string]any{"url": baton.RedactURL(w.URL), "events": w.Events, "active": true}); err != nil {
		return err
	}
	return tx.Commit()
}

// FindWebhooks lists the webhooks, without their secrets (admins only).
func (db *DB) FindWebhooks(ctx context.Context) ([]*baton.Webhook, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only an admin may see webhooks")
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, url, events, active, created_at FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*baton.Webhook{}
	for rows.Next() {
		var w baton.Webhook
		var events string
		var created int64
		if err := rows.Scan(&w.ID, &w.URL, &events, &w.Active, &created); err != nil {
			return nil, err
		}
		// A URL stored before user info was refused must not show it.
		w.URL = baton.RedactURL(w.URL)
		w.Events, w.CreatedAt = strings.Split(events, ","), fromMicros(created)
		out = append(out, &w)
	}
	return out, rows.Err()
}

// WebhookSecret returns a webhook with its secret, and the secret a
// rotation replaced while it still signs, for delivery.
func (db *DB) WebhookSecret(ctx context.Context, id int64) (*baton.Webhook, error) {
	var w baton.Webhook
	var events, secret, old string
	var created int64
	var until sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT id, url, secret, events, active, created_at, old_secret, old_until FROM webhooks WHERE id = $1`, id).
		Scan(&w.ID, &w.URL, &secret, &events, &w.Active, &created, &old, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no webhook %d", id)
	} else if err != nil {
		return nil, err
	}
	if w.Secret, err = db.unseal(secret); err != nil {
		return nil, err
	}
	if old != "" && until.Valid && micros(db.Now().UTC()) < until.Int64 {
		o, err := db.unseal(old)
		if err != nil {
			return nil, err
		}
		w.OldSecrets = []string{o}
	}
	w.Events, w.CreatedAt = strings.Split(events, ","), fromMicros(created)
	return &w, nil
}

// RotateWebhookSecret gives a webhook a new secret (admins only) and keeps
// the one it replaces signing for grace.
func (db *DB) RotateWebhookSecret(ctx context.Context, id int64, grace time.Duration) (string, error) {
	if grace == 0 {
		grace = baton.DefaultSecretGrace
	}
	if grace < 0 || grace > 30*24*time.Hour {
		return "", baton.FieldError("grace", "%s is not between 0 and 30 days", grace)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return "", baton.Errorf(baton.EFORBIDDEN, "only an admin may manage webhooks")
	}
	secret, err := NewWebhookSecret()
	if err != nil {
		return "", err
	}
	sealed, err := db.seal(secret)
	if err != nil {
		return "", err
	}
	res, err := tx.ExecContext(ctx, `UPDATE webhooks SET old_secret = secret, old_until = $1, secret = $2 WHERE id = $3`,
		micros(tx.now.Add(grace)), sealed, id)
	if err != nil {
		return "", fmt.Errorf("rotate webhook secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", baton.Errorf(baton.ENOTFOUND, "no webhook %d", id)
	}
	// Never a secret: when the old one stops signing.
	if err := tx.audit(ctx, "webhook.rotate", "webhook", id, nil, map[string]any{"old_secret_until": tx.now.Add(grace)}); err != nil {
		return "", err
	}
	return secret, tx.Commit()
}

// SetWebhookActive turns a webhook on or off (admins only).
func (db *DB) SetWebhookActive(ctx context.Context, id int64, active bool) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return baton.Errorf(baton.EFORBIDDEN, "only an admin may manage webhooks")
	}
	var was bool
	if err := tx.QueryRowContext(ctx, `SELECT active FROM webhooks WHERE id = $1`, id).Scan(&was); errors.Is(err, sql.ErrNoRows) {
		return baton.Errorf(baton.ENOTFOUND, "no webhook %d", id)
	} else if err != nil {
		return fmt.Errorf("webhook %d: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE webhooks SET active = $1 WHERE id = $2`, active, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return baton.Errorf(baton.ENOTFOUND, "no webhook %d", id)
	}
	if err := tx.audit(ctx, "webhook.toggle", "webhook", id, map[string]any{"active": was}, map[string]any{"active": active}); err != nil {
		return err
	}
	return tx.Commit()
}

// Deliveries lists the latest delivery attempts (admins only). An attempt
// still in flight says so in its error, with whether its worker's lease has
// run out (the worker stopped or hangs, and the next claim takes it over).
func (db *DB) Deliveries(ctx context.Context, f baton.DeliveryFilter) ([]baton.DeliveryAttempt, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only an admin may see deliveries")
	}
	var w where
	if f.Channel != "" {
		w.add("o.channel = ?", f.Channel)
	}
	if f.Target != "" {
		w.add("o.target = ?", f.Target)
	}
	rows, err := tx.QueryContext(ctx, `SELECT d.id, d.outbox_id, o.channel, o.event, o.target, d.at, d.status, d.error, d.duration_ms, o.state,
		d.worker, d.finished_at, d.interrupted, o.lease_until
		FROM deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE `+w.String()+` ORDER BY d.id DESC`+limitClause(0, f.Limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	defer rows.Close()
	out := []baton.DeliveryAttempt{}
	for rows.Next() {
		var d baton.DeliveryAttempt
		var at, leaseUntil int64
		var finished sql.NullInt64
		var interrupted bool
		if err := rows.Scan(&d.ID, &d.OutboxID, &d.Channel, &d.Event, &d.Target, &at, &d.Status, &d.Error, &d.Millis, &d.State,
			&d.Worker, &finished, &interrupted, &leaseUntil); err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
		d.At, d.FinishedAt = fromMicros(at), fromNullMicros(finished)
		switch {
		case d.FinishedAt == nil:
			d.Result = baton.AttemptInFlight
			// Only the attempt of the message's current claim is unfinished,
			// so the message's lease is this attempt's.
			if until := fromMicros(leaseUntil); until.After(tx.now) {
				d.Error = fmt.Sprintf("in flight: sent by %s, no answer yet (its lease ends %s)", instance(d.Worker), until.Format(time.RFC3339))
			} else {
				d.Error = fmt.Sprintf("in flight: %s's lease ran out before the receiver answered; the next claim marks it interrupted and sends it again", instance(d.Worker))
			}
		case interrupted:
			d.Result = baton.AttemptInterrupted
		case d.Error == "":
			d.Result = baton.AttemptDelivered
		default:
			d.Result = baton.AttemptFailed
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return out, nil
}

// SetEmail turns email notifications on or off: with it on, reminders and
// escalations are written to the outbox as emails too.
func (db *DB) SetEmail(ctx context.Context, on bool) error {
	return db.setSetting(ctx, settingEmail, on)
}

// SetWebhookAllowPrivate records the operator's rule for new webhooks (baton
// serve --webhook-allow-private): with it on, CreateWebhook accepts http URLs
// and loopback or private addresses; off (the default, and what a database
// no server has set holds), only https URLs that are not literal inside
// addresses. Every door (the web UI, the CLI) creates webhooks through the
// store, so the rule is the same at each. Deliveries check the addresses they
// connect to on their own (deliver.Deliverer.AllowPrivate).
func (db *DB) SetWebhookAllowPrivate(ctx context.Context, on bool) error {
	return db.setSetting(ctx, settingWebhookAllowPrivate, on)
}

// The settings that are switches, "on" or "off".
const (
	settingEmail               = "email"
	settingWebhookAllowPrivate = "webhook_allow_private"
)

func (db *DB) setSetting(ctx context.Context, key string, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	return err
}

// setting reads a switch; one never set is off.
func (tx *Tx) setting(ctx context.Context, key string) (bool, error) {
	var v string
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return v == "on", err
}
