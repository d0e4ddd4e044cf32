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
// takes 30 s to answer must not hold the database.
func (db *DB) ClaimOutbox(ctx context.Context, worker string, n int, lease time.Duration) (_ []baton.OutboxMessage, err error) {
	defer raceConflict(&err)
	ctx = baton.WithActor(ctx, baton.Actor{Name: "outbox", Role: baton.RoleSystem, Via: "outbox"})
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := `SELECT id, channel, target, event, subject, payload, attempts, created_at FROM outbox
		WHERE state = 'pending' AND next_at <= $1 AND lease_until <= $1 ORDER BY next_at, id LIMIT $2`
	if db.backend == Postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, q, micros(tx.now), n)
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	var out []baton.OutboxMessage
	for rows.Next() {
		var m baton.OutboxMessage
		var payload string
		var created int64
		if err := rows.Scan(&m.ID, &m.Channel, &m.Target, &m.Event, &m.Subject, &payload, &m.Attempts, &created); err != nil {
			rows.Close()
			return nil, err
		}
		m.Payload, m.CreatedAt = []byte(payload), fromMicros(created)
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, m := range out {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET lease_until = $1 WHERE id = $2`, micros(tx.now.Add(lease)), m.ID); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

// FinishOutbox records an attempt and moves the message on.
func (db *DB) FinishOutbox(ctx context.Context, id int64, r baton.DeliveryResult) (err error) {
	defer raceConflict(&err)
	ctx = baton.WithActor(ctx, baton.Actor{Name: "outbox", Role: baton.RoleSystem, Via: "outbox"})
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var attempts int
	if err := tx.QueryRowContext(ctx, `SELECT attempts FROM outbox WHERE id = $1`, id).Scan(&attempts); err != nil {
		return fmt.Errorf("finish outbox %d: %w", id, err)
	}
	attempts++
	msg := r.Error
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (outbox_id, at, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
		id, micros(tx.now), r.Status, msg, r.Duration.Milliseconds()); err != nil {
		return err
	}
	switch {
	case r.OK:
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'sent', attempts = $1, delivered_at = $2, last_error = '', lease_until = 0 WHERE id = $3`,
			attempts, micros(tx.now), id)
	case !r.Retry || attempts >= baton.MaxDeliveryAttempts:
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'dead', attempts = $1, last_error = $2, lease_until = 0 WHERE id = $3`, attempts, msg, id)
	default:
		// Capped exponential backoff with jitter: 30 s, 1 min, 2 min, ... 1 h.
		wait := min(30*time.Second<<(attempts-1), time.Hour)
		wait = wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))
		wait = max(wait, r.RetryAfter)
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET attempts = $1, last_error = $2, next_at = $3, lease_until = 0 WHERE id = $4`,
			attempts, msg, micros(tx.now.Add(wait)), id)
	}
	if err != nil {
		return fmt.Errorf("finish outbox %d: %w", id, err)
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
	w.Active, w.CreatedAt = true, tx.now
	if err := tx.QueryRowContext(ctx, `INSERT INTO webhooks (url, secret, events, active, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		w.URL, w.Secret, strings.Join(w.Events, ","), true, micros(tx.now)).Scan(&w.ID); err != nil {
		return fmt.Errorf("create webhook: %w", err)
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
		w.Events, w.CreatedAt = strings.Split(events, ","), fromMicros(created)
		out = append(out, &w)
	}
	return out, rows.Err()
}

// WebhookSecret returns a webhook with its secret, for delivery.
func (db *DB) WebhookSecret(ctx context.Context, id int64) (*baton.Webhook, error) {
	var w baton.Webhook
	var events string
	var created int64
	err := db.read.QueryRowContext(ctx, `SELECT id, url, secret, events, active, created_at FROM webhooks WHERE id = $1`, id).
		Scan(&w.ID, &w.URL, &w.Secret, &events, &w.Active, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no webhook %d", id)
	} else if err != nil {
		return nil, err
	}
	w.Events, w.CreatedAt = strings.Split(events, ","), fromMicros(created)
	return &w, nil
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
	res, err := tx.ExecContext(ctx, `UPDATE webhooks SET active = $1 WHERE id = $2`, active, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return baton.Errorf(baton.ENOTFOUND, "no webhook %d", id)
	}
	return tx.Commit()
}

// Deliveries lists the latest delivery attempts (admins only).
func (db *DB) Deliveries(ctx context.Context, limit int) ([]baton.DeliveryAttempt, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only an admin may see deliveries")
	}
	rows, err := tx.QueryContext(ctx, `SELECT d.id, d.outbox_id, o.event, o.target, d.at, d.status, d.error, d.duration_ms, o.state
		FROM deliveries d JOIN outbox o ON o.id = d.outbox_id ORDER BY d.id DESC`+limitClause(0, limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []baton.DeliveryAttempt{}
	for rows.Next() {
		var d baton.DeliveryAttempt
		var at int64
		if err := rows.Scan(&d.ID, &d.OutboxID, &d.Event, &d.Target, &at, &d.Status, &d.Error, &d.Millis, &d.State); err != nil {
			return nil, err
		}
		d.At = fromMicros(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SetEmail turns email notifications on or off: with it on, reminders and
// escalations are written to the outbox as emails too.
func (db *DB) SetEmail(ctx context.Context, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('email', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, v)
	return err
}
