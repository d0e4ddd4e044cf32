package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

// Telling people: the in-app inbox, emails and webhook events, all written
// to the outbox in the transaction of the change that causes them.

// inbox puts a notification in a user's in-app inbox.
func (tx *Tx) inbox(ctx context.Context, userID int64, kind string, l *baton.Lead, title, body string) error {
	var lead any
	if l != nil {
		lead = l.ID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (user_id, kind, lead_id, title, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		userID, kind, lead, title, body, micros(tx.now)); err != nil {
		return fmt.Errorf("notify user %d: %w", userID, err)
	}
	return nil
}

// inboxRole notifies every active user of a role.
func (tx *Tx) inboxRole(ctx context.Context, role baton.Role, kind string, l *baton.Lead, title, body string) error {
	var lead any
	if l != nil {
		lead = l.ID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications (user_id, kind, lead_id, title, body, created_at)
		SELECT id, $1, $2, $3, $4, $5 FROM users WHERE role = $6 AND active = $7`, kind, lead, title, body, micros(tx.now), string(role), true)
	return err
}

// emailUser queues an email to a user in the outbox, when email is on.
func (tx *Tx) emailUser(ctx context.Context, userID int64, kind string, l *baton.Lead, subject, text string) error {
	var on string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'email'`).Scan(&on); errors.Is(err, sql.ErrNoRows) || on != "on" {
		return nil
	} else if err != nil {
		return err
	}
	u, err := tx.findUserByID(ctx, userID)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(map[string]any{"subject": subject, "text": text, "lead_id": l.ID})
	return tx.outbox(ctx, "email", u.Email, kind, subject, payload)
}

// emit queues the event for every active webhook that subscribes to it.
// The webhooks are read once per transaction: an import of thousands of
// leads emits thousands of events.
func (tx *Tx) emit(ctx context.Context, event string, l *baton.Lead, data map[string]any) error {
	c := tx.hooks
	if c == nil {
		c = &hookCache{}
	}
	if !c.loaded {
		hooks, err := tx.activeHooks(ctx)
		if err != nil {
			return err
		}
		c.list, c.loaded = hooks, true
	}
	var targets []string
	for _, h := range c.list {
		if h.events[0] == "*" || contains(h.events, event) {
			targets = append(targets, strconv.FormatInt(h.id, 10))
		}
	}
	if len(targets) == 0 {
		return nil
	}
	// "type" and "timestamp" beside Baton's own names are the fields
	// Standard Webhooks suggests, for receivers' generic code.
	payload, err := json.Marshal(map[string]any{"event": event, "type": event, "occurred_at": tx.now, "timestamp": tx.now,
		"actor": tx.actor.Name, "lead": l, "data": data})
	if err != nil {
		return err
	}
	for _, t := range targets {
		if err := tx.outbox(ctx, "webhook", t, event, "", payload); err != nil {
			return err
		}
	}
	return nil
}

// hookCache holds a transaction's active webhooks once read.
type hookCache struct {
	loaded bool
	list   []hookSub
}

// hookSub is an active webhook and the events it subscribes to.
type hookSub struct {
	id     int64
	events []string
}

func (tx *Tx) activeHooks(ctx context.Context) ([]hookSub, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, events FROM webhooks WHERE active = $1 ORDER BY id`, true)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	defer rows.Close()
	hooks := []hookSub{}
	for rows.Next() {
		var h hookSub
		var events string
		if err := rows.Scan(&h.id, &events); err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		h.events = strings.Split(events, ",")
		hooks = append(hooks, h)
	}
	return hooks, rows.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}

// outbox writes one message to deliver, in the transaction of the change.
func (tx *Tx) outbox(ctx context.Context, channel, target, event, subject string, payload []byte) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (channel, target, event, subject, payload, created_at, next_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		channel, target, event, subject, string(payload), micros(tx.now)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// Notifications lists the caller's in-app notifications, newest first.
func (db *DB) Notifications(ctx context.Context, unreadOnly bool, limit int) ([]baton.Notification, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := `SELECT id, user_id, kind, lead_id, title, body, created_at, read_at FROM notifications WHERE user_id = $1`
	if unreadOnly {
		q += ` AND read_at IS NULL`
	}
	rows, err := tx.QueryContext(ctx, q+` ORDER BY id DESC`+limitClause(0, limit), tx.actor.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []baton.Notification{}
	for rows.Next() {
		var n baton.Notification
		var lead, read sql.NullInt64
		var created int64
		if err := rows.Scan(&n.ID, &n.UserID, &n.Kind, &lead, &n.Title, &n.Body, &created, &read); err != nil {
			return nil, err
		}
		n.LeadID, n.CreatedAt, n.ReadAt = ptrInt(lead), fromMicros(created), fromNullMicros(read)
		out = append(out, n)
	}
	return out, rows.Err()
}

// MarkRead marks one of the caller's notifications read.
func (db *DB) MarkRead(ctx context.Context, id int64) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL`, micros(tx.now), id, tx.actor.UserID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return baton.Errorf(baton.ENOTFOUND, "no unread notification %d of yours", id)
	}
	return tx.Commit()
}
