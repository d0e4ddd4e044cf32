package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// Handoffs: the SLA records of leads handed to sales, and the queries of
// the rep's queue.

var _ baton.HandoffService = (*DB)(nil)

// Job kinds of the handoff.
const (
	RemindJob   = "sla_remind"
	BreachJob   = "sla_breach"
	StaleSALJob = "stale_sal"
)

const handoffColumns = `id, lead_id, kind, owner_id, state, why, pull, assigned_at, due_at, remind_at, reminded_at, answered_at,
	breached_at, escalated_to, met, working_seconds`

// handoffConfig is the policy's handoff section, or the default without a policy.
func (sc *scorer) handoffConfig() policy.Handoff {
	if sc.policy != nil {
		return sc.policy.Handoff
	}
	return policy.DefaultHandoff()
}

func stageConfig(cfg policy.Handoff, kind baton.HandoffKind) (policy.Stage, baton.Role) {
	if kind == baton.HandoffAE {
		return cfg.AE, baton.RoleAE
	}
	return cfg.SDR, baton.RoleSDR
}

func scanHandoff(s interface{ Scan(...any) error }) (*baton.Handoff, error) {
	h, dest, finish := handoffDest()
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return h, nil
}

// handoffDest returns a handoff, the destinations to scan handoffColumns
// into, and the function that fills the handoff from them once scanned.
func handoffDest() (*baton.Handoff, []any, func()) {
	var h baton.Handoff
	var assigned, due, remind int64
	var reminded, answered, breached, escalated sql.NullInt64
	var met sql.NullBool
	dest := []any{&h.ID, &h.LeadID, &h.Kind, &h.OwnerID, &h.State, &h.Why, &h.Pull, &assigned, &due, &remind,
		&reminded, &answered, &breached, &escalated, &met, &h.WorkingSeconds}
	return &h, dest, func() {
		h.AssignedAt, h.DueAt, h.RemindAt = fromMicros(assigned), fromMicros(due), fromMicros(remind)
		h.RemindedAt, h.AnsweredAt, h.BreachedAt = fromNullMicros(reminded), fromNullMicros(answered), fromNullMicros(breached)
		h.EscalatedTo = ptrInt(escalated)
		if met.Valid {
			h.Met = &met.Bool
		}
	}
}

func leadName(l *baton.Lead) string {
	switch {
	case l.Name != "" && l.Company != "":
		return l.Name + " (" + l.Company + ")"
	case l.Name != "":
		return l.Name
	case l.Email != "":
		return l.Email
	}
	return "lead " + strconv.FormatInt(l.ID, 10)
}

// Queue returns the caller's leads awaiting their answer: soonest deadline
// first, or most likely to buy first with sort "probability"; 500 at most.
func (db *DB) Queue(ctx context.Context, sort string) ([]baton.QueueItem, error) {
	items, _, err := db.queue(ctx, sort, 0, 500, false)
	return items, err
}

// QueuePage returns limit items of the caller's queue from offset on (as
// Queue orders them) and how many the queue holds.
func (db *DB) QueuePage(ctx context.Context, sort string, offset, limit int) ([]baton.QueueItem, int, error) {
	if offset < 0 {
		return nil, 0, baton.FieldError("offset", "at least 0, not %d", offset)
	}
	if limit < 1 {
		return nil, 0, baton.FieldError("limit", "at least 1, not %d", limit)
	}
	return db.queue(ctx, sort, offset, limit, true)
}

// queue reads a page of the caller's queue and, when count is set, the
// number of its items. The page reads only its own rows: on the default
// order the index on handoffs (owner_id, state, due_at) gives them in
// order; the other orders sort the caller's few hundred open handoffs.
func (db *DB) queue(ctx context.Context, sort string, offset, limit int, count bool) ([]baton.QueueItem, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	order := "h.due_at, h.id"
	switch sort {
	case "", "deadline":
	case "probability":
		order = "l.probability IS NULL, l.probability DESC, h.due_at"
	case "fit":
		order = "l.fit DESC, h.due_at"
	default:
		return nil, 0, baton.FieldError("sort", "unknown order %q (want deadline, probability or fit)", sort)
	}
	const from = ` FROM handoffs h JOIN leads l ON l.id = h.lead_id WHERE h.owner_id = $1 AND h.state = 'open' AND l.owner_id = h.owner_id`
	rows, err := tx.QueryContext(ctx, `SELECT `+prefix("h.", handoffColumns)+`, `+prefix("l.", leadColumns)+from+` ORDER BY `+order+` LIMIT $2 OFFSET $3`,
		tx.actor.UserID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("queue: %w", err)
	}
	defer rows.Close()
	items, err := scanQueueItems(rows)
	if err != nil || !count {
		return items, len(items), err
	}
	total := offset + len(items)
	if len(items) == limit || len(items) == 0 && offset > 0 {
		// The count asks the same (the lead is still the rep's) of the
		// index on leads (owner_id, ...), not of each lead's wide row: at
		// 667 open handoffs it was most of an inbox page's time.
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM handoffs h WHERE h.owner_id = $1 AND h.state = 'open'
			AND h.lead_id IN (SELECT id FROM leads WHERE owner_id = $1)`, tx.actor.UserID).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("queue: %w", err)
		}
	}
	return items, total, nil
}

// scanQueueItems reads rows of a handoff's columns then its lead's
// (handoffColumns, leadColumns), as Queue and AwaitingAnswer select them:
// the handoff's times are filled once the row is scanned.
func scanQueueItems(rows *sql.Rows) ([]baton.QueueItem, error) {
	out := []baton.QueueItem{}
	for rows.Next() {
		h, hdest, finish := handoffDest()
		l, err := scanLead(scanFunc(func(dest ...any) error {
			if err := rows.Scan(append(hdest, dest...)...); err != nil {
				return err
			}
			finish()
			return nil
		}))
		if err != nil {
			return nil, err
		}
		out = append(out, baton.QueueItem{Lead: l, Handoff: h})
	}
	return out, rows.Err()
}

// Handoffs lists a lead's handoffs, oldest first.
func (db *DB) Handoffs(ctx context.Context, leadID int64) ([]baton.Handoff, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.findVisibleLead(ctx, leadID, false); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+handoffColumns+` FROM handoffs WHERE lead_id = $1 ORDER BY id`, leadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []baton.Handoff{}
	for rows.Next() {
		h, err := scanHandoff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *h)
	}
	return out, rows.Err()
}

// StaleSALs lists the accepted leads the actor may see that have had no
// opportunity for longer than the policy allows.
func (db *DB) StaleSALs(ctx context.Context) ([]*baton.Lead, error) {
	tx, err := db.beginLagged(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	var w where
	tx.scope(&w, "")
	w.add("stage = ?", string(baton.StageSAL))
	w.add("stage_changed_at < ?", micros(tx.now.Add(-sc.handoffConfig().OpportunityWithin)))
	rows, err := tx.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE `+w.String()+` ORDER BY stage_changed_at LIMIT 1000`, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*baton.Lead{}
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
