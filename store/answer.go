package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// Handoffs being answered: their records, contact attempts, and the merge
// of a duplicate.

// openHandoff returns the lead's open handoff of a kind, or nil.
func (tx *Tx) openHandoff(ctx context.Context, leadID int64, kind baton.HandoffKind) (*baton.Handoff, error) {
	h, err := scanHandoff(tx.QueryRowContext(ctx, `SELECT `+handoffColumns+` FROM handoffs WHERE lead_id = $1 AND kind = $2 AND state = 'open' ORDER BY id DESC LIMIT 1`,
		leadID, string(kind)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return h, err
}

func (tx *Tx) findHandoff(ctx context.Context, id int64) (*baton.Handoff, error) {
	h, err := scanHandoff(tx.QueryRowContext(ctx, `SELECT `+handoffColumns+` FROM handoffs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no handoff %d", id)
	}
	return h, err
}

// answer closes a handoff with the rep's answer, recording whether it came
// within the window and how much working time it took.
func (tx *Tx) answer(ctx context.Context, h *baton.Handoff, state baton.HandoffState) error {
	owner, err := tx.findUserByID(ctx, h.OwnerID)
	if err != nil {
		return err
	}
	cal, err := tx.calendarOf(ctx, owner)
	if err != nil {
		return err
	}
	met := !tx.now.After(h.DueAt)
	taken := cal.Between(h.AssignedAt, tx.now)
	res, err := tx.ExecContext(ctx, `UPDATE handoffs SET state = $1, answered_at = $2, met = $3, working_seconds = $4 WHERE id = $5 AND state = 'open'`,
		state, micros(tx.now), met, int64(taken/time.Second), h.ID)
	if err != nil {
		return fmt.Errorf("answer handoff %d: %w", h.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return baton.Errorf(baton.ECONFLICT, "the handoff of lead %d was closed meanwhile", h.LeadID)
	}
	if err := tx.cancelSLAJobs(ctx, h.ID); err != nil {
		return err
	}
	h.State, h.Met, h.WorkingSeconds = state, &met, int64(taken/time.Second)
	now := tx.now
	h.AnsweredAt = &now
	return nil
}

// closeOpen closes every open handoff of a lead that leaves the handoff
// stages some other way (merged, disqualified by marketing, ...).
func (tx *Tx) closeOpen(ctx context.Context, leadID int64, state baton.HandoffState) error {
	rows, err := tx.QueryContext(ctx, `UPDATE handoffs SET state = $1, answered_at = $2 WHERE lead_id = $3 AND state = 'open' RETURNING id`,
		state, micros(tx.now), leadID)
	if err != nil {
		return err
	}
	ids, err := scanIDs(rows)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := tx.cancelSLAJobs(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// merge moves a duplicate's events and a copy of its history to the lead it
// duplicates, and rescores the survivor.
func (tx *Tx) merge(ctx context.Context, sc *scorer, dup, survivor *baton.Lead) error {
	if _, err := tx.ExecContext(ctx, `UPDATE events SET lead_id = $1 WHERE lead_id = $2 AND client_id NOT IN (SELECT client_id FROM events WHERE lead_id = $1)`,
		survivor.ID, dup.ID); err != nil {
		return fmt.Errorf("merge events: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lead_history (lead_id, at, actor_id, actor_name, action, field, from_value, to_value, reason, note)
		SELECT $1, at, actor_id, actor_name, action, field, from_value, to_value, reason, note || $2 FROM lead_history WHERE lead_id = $3 ORDER BY id`,
		survivor.ID, fmt.Sprintf(" [from lead %d]", dup.ID), dup.ID); err != nil {
		return fmt.Errorf("merge history: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET merged_into = $1 WHERE id = $2`, survivor.ID, dup.ID); err != nil {
		return err
	}
	if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: survivor.ID, At: tx.now, Action: baton.ActionMerged, From: strconv.FormatInt(dup.ID, 10),
		Reason: baton.ReasonDuplicate, Note: fmt.Sprintf("lead %d was a duplicate of this one: its events and history are here now", dup.ID)}); err != nil {
		return err
	}
	// Engagement from the moved events: rebuild the survivor's from all its events.
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET score_state = '{}', score_seq = score_seq + 1 WHERE id = $1`, survivor.ID); err != nil {
		return err
	}
	all, err := tx.eventsBetween(ctx, survivor.ID, survivor.ID)
	if err != nil {
		return err
	}
	return tx.rescoreLead(ctx, sc, survivor, all[survivor.ID])
}

// LogAttempt records a contact attempt on the lead's timeline.
func (db *DB) LogAttempt(ctx context.Context, leadID int64, a *baton.Attempt) (err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	l, err := tx.findVisibleLead(ctx, leadID, false)
	if err != nil {
		return err
	}
	if tx.actor.Role == baton.RoleMarketing {
		return baton.Errorf(baton.EFORBIDDEN, "contact attempts are logged by sales")
	}
	if err := a.Validate(tx.now); err != nil {
		return err
	}
	// An attempt belongs to the lead's current handoff: dated before it
	// opened, it would count towards unable_to_reach at once.
	since, what := l.CreatedAt, "the lead was created"
	h, err := tx.currentHandoff(ctx, l.ID)
	if err != nil {
		return err
	}
	if h != nil {
		since, what = h.AssignedAt, "the lead was handed to its owner"
	}
	if a.At.Before(since) {
		return baton.FieldError("at", "%s is before %s (%s): an attempt is logged when it happens", a.At.Format(time.RFC3339), what, since.Format(time.RFC3339))
	}
	a.LeadID, a.UserID = l.ID, tx.actor.UserID
	if err := tx.QueryRowContext(ctx, `INSERT INTO attempts (lead_id, user_id, channel, outcome, at, note) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		l.ID, nullInt(nonZero(a.UserID)), a.Channel, a.Outcome, micros(a.At), a.Note).Scan(&a.ID); err != nil {
		return fmt.Errorf("log attempt: %w", err)
	}
	if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: a.At, Action: baton.ActionAttempt, Field: a.Channel, To: a.Outcome, Note: a.Note}); err != nil {
		return err
	}
	return tx.Commit()
}

func nonZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// Attempts lists a lead's contact attempts, oldest first.
func (db *DB) Attempts(ctx context.Context, leadID int64) ([]baton.Attempt, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.findVisibleLead(ctx, leadID, false); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, lead_id, user_id, channel, outcome, at, note FROM attempts WHERE lead_id = $1 ORDER BY at, id`, leadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []baton.Attempt{}
	for rows.Next() {
		var a baton.Attempt
		var uid sql.NullInt64
		var at int64
		if err := rows.Scan(&a.ID, &a.LeadID, &uid, &a.Channel, &a.Outcome, &at, &a.Note); err != nil {
			return nil, err
		}
		a.UserID, a.At = uid.Int64, fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// findActionableLead returns, locked for update, a lead the actor is about
// to move. A lead the actor may not read is not found, with the same words
// as one that does not exist, so that no door tells who has which lead; a
// rep who once held its handoff (and lost a race for it, or handed it on)
// is told it is no longer theirs instead.
func (tx *Tx) findActionableLead(ctx context.Context, id int64) (*baton.Lead, error) {
	l, err := tx.findLead(ctx, id, true)
	if err != nil {
		return nil, err
	}
	ok, err := tx.canSee(ctx, l)
	if err != nil || ok {
		return l, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM handoffs WHERE lead_id = $1 AND owner_id = $2`, id, tx.actor.UserID).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, baton.Errorf(baton.ECONFLICT, "lead %d is no longer yours: someone else answered it or took it over", id)
	}
	if l.OwnerID == nil {
		// An unowned lead goes on: move decides whether the verb takes it
		// from the pool, or answers not found.
		return l, nil
	}
	return nil, notFound(id)
}

// notFound is the error of a lead that does not exist or that the actor
// may not read: the same either way.
func notFound(id int64) error { return baton.Errorf(baton.ENOTFOUND, "no lead %d", id) }

// currentHandoff returns the lead's newest handoff, open or not, or nil.
func (tx *Tx) currentHandoff(ctx context.Context, leadID int64) (*baton.Handoff, error) {
	h, err := scanHandoff(tx.QueryRowContext(ctx, `SELECT `+handoffColumns+` FROM handoffs WHERE lead_id = $1 ORDER BY id DESC LIMIT 1`, leadID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return h, err
}

// closeHandoff closes an open handoff without an answer of its owner's (a
// manager reassigned the lead).
func (tx *Tx) closeHandoff(ctx context.Context, h *baton.Handoff, state baton.HandoffState) error {
	res, err := tx.ExecContext(ctx, `UPDATE handoffs SET state = $1, answered_at = $2 WHERE id = $3 AND state = 'open'`,
		state, micros(tx.now), h.ID)
	if err != nil {
		return fmt.Errorf("close handoff %d: %w", h.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return baton.Errorf(baton.ECONFLICT, "the handoff of lead %d was closed meanwhile", h.LeadID)
	}
	h.State = state
	return tx.cancelSLAJobs(ctx, h.ID)
}

// cancelSLAJobs marks done, without running them, the reminder and
// deadline jobs of a handoff that closes: run, each would find the handoff
// closed and do nothing, and on a busy floor they were half of all jobs.
// The jobs of a handoff another instance runs at this moment (locked, on
// PostgreSQL) are left to it: it finds the handoff closed once this
// transaction commits, and waiting for it could deadlock, since the job
// holds its row before the lead and an answer the lead before the job.
func (tx *Tx) cancelSLAJobs(ctx context.Context, handoffID int64) error {
	q := `SELECT id FROM jobs WHERE done_at IS NULL AND kind IN ('` + RemindJob + `', '` + BreachJob + `') AND subject = $2`
	if tx.db.backend == Postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET done_at = $1 WHERE id IN (`+q+`)`, micros(tx.now), strconv.FormatInt(handoffID, 10)); err != nil {
		return fmt.Errorf("cancel the jobs of handoff %d: %w", handoffID, err)
	}
	return nil
}
